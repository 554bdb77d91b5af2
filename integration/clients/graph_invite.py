"""Microsoft's own client libraries against Portico: MSAL (through azure-identity) gets an
app token from Portico's token endpoint, and the Microsoft Graph SDK for Python posts an
invitation to Portico's /v1.0 API. Prints what came back as one line of JSON: the
invitation, or the Graph error's code.

Usage: graph_invite.py BASE_URL TENANT CLIENT_ID CLIENT_SECRET EMAIL
(the certificate to trust, when BASE_URL is https with a private one, in SSL_CERT_FILE and
REQUESTS_CA_BUNDLE)."""

import asyncio
import json
import sys
from urllib.parse import urlparse

from azure.identity import ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.invitation import Invitation
from msgraph.generated.models.invited_user_message_info import InvitedUserMessageInfo
from msgraph.generated.models.o_data_errors.o_data_error import ODataError


async def main(base, tenant, client_id, secret, email):
    # Only the authority changes: the rest is what a program written for Graph does.
    credential = ClientSecretCredential(
        tenant, client_id, secret, authority=base, disable_instance_discovery=True
    )
    auth = AzureIdentityAuthenticationProvider(
        credential,
        scopes=["https://graph.microsoft.com/.default"],
        allowed_hosts=[urlparse(base).hostname],
    )
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = base + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    invitation = Invitation(
        invited_user_email_address=email,
        invite_redirect_url="https://wiki.contoso.example/",
        invited_user_display_name="Lee",
        send_invitation_message=True,
        invited_user_message_info=InvitedUserMessageInfo(
            customized_message_body="Welcome to the wiki"
        ),
    )
    try:
        made = await client.invitations.post(invitation)
    except ODataError as error:
        print(json.dumps({"error": error.error.code, "status": error.response_status_code}))
        return
    print(
        json.dumps(
            {
                "id": made.id,
                "status": made.status,
                "inviteRedeemUrl": made.invite_redeem_url,
                "invitedUserId": made.invited_user.id,
                "invitedUserEmailAddress": made.invited_user_email_address,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
