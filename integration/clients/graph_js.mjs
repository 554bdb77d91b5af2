// Microsoft's own JavaScript libraries against Portico: MSAL for Node gets an app token
// from the tenant's authority (client credentials), and the Microsoft Graph JavaScript
// client invites a guest, lists guests with a filter page by page, adds the guest to a
// group by reference and assigns an app to them. Only the addresses change from what a
// program written for Microsoft Graph does: the authority, and the Graph client's base URL
// and host. Prints one line of JSON: what each step gave back, or the Graph error's code.
//
// Usage: node graph_js.mjs BASE_URL TENANT CLIENT_ID CLIENT_SECRET EMAIL GROUP_NAME APP_NAME
// (the certificate to trust, when BASE_URL is https with a private one, in
// NODE_EXTRA_CA_CERTS).

import { ConfidentialClientApplication } from "@azure/msal-node";
import { Client, PageIterator } from "@microsoft/microsoft-graph-client";

const [base, tenant, clientId, clientSecret, email, groupName, appName] = process.argv.slice(2);
const { host, hostname } = new URL(base);

// MSAL trusts only Microsoft's clouds unless told that this authority is one to use.
const msal = new ConfidentialClientApplication({
  auth: {
    clientId,
    clientSecret,
    authority: `${base}/${tenant}`,
    knownAuthorities: [host],
  },
});

async function main() {
  const token = await msal.acquireTokenByClientCredential({
    scopes: ["https://graph.microsoft.com/.default"],
  });
  const client = Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => token.accessToken },
    baseUrl: `${base}/`,
    defaultVersion: "v1.0",
    // The client sends the token only to the hosts it knows to be Graph's (by name,
    // without the port).
    customHosts: new Set([hostname]),
  });

  const invitation = await client.api("/invitations").post({
    invitedUserEmailAddress: email,
    inviteRedirectUrl: "https://wiki.contoso.example/",
    invitedUserDisplayName: "Lee",
    sendInvitationMessage: true,
    invitedUserMessageInfo: { customizedMessageBody: "Welcome to the wiki" },
  });
  const guestId = invitation.invitedUser.id;

  // One guest a page, so that the iterator follows @odata.nextLink.
  const firstPage = await client
    .api("/users")
    .filter("userType eq 'Guest'")
    .select(["id", "mail", "userType"])
    .top(1)
    .get();
  const guests = [];
  const pages = new PageIterator(client, firstPage, (user) => {
    guests.push(user.mail);
    return true;
  });
  await pages.iterate();

  const groups = await client.api("/groups").get();
  const group = groups.value.find((g) => g.displayName === groupName);
  await client.api(`/groups/${group.id}/members/$ref`).post({
    "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${guestId}`,
  });
  const members = await client.api(`/groups/${group.id}/members`).get();

  const apps = await client
    .api("/servicePrincipals")
    .filter(`displayName eq '${appName.replaceAll("'", "''")}'`)
    .get();
  const app = apps.value[0];
  const assignment = await client.api(`/servicePrincipals/${app.id}/appRoleAssignedTo`).post({
    principalId: guestId,
    resourceId: app.id,
    appRoleId: "00000000-0000-0000-0000-000000000000",
  });

  return {
    invitationId: invitation.id,
    status: invitation.status,
    inviteRedeemUrl: invitation.inviteRedeemUrl,
    guestId,
    guests,
    pagesFollowed: firstPage["@odata.nextLink"] !== undefined,
    groupId: group.id,
    members: members.value.map((m) => m.id),
    servicePrincipalId: app.id,
    assignment: {
      id: assignment.id,
      principalId: assignment.principalId,
      resourceId: assignment.resourceId,
      appRoleId: assignment.appRoleId,
    },
  };
}

try {
  console.log(JSON.stringify(await main()));
} catch (error) {
  // A Graph error (GraphError) has the status and Graph's code; anything else is a
  // failure of the script or of the libraries.
  if (error && error.statusCode !== undefined && error.code !== undefined) {
    console.error(error.message);
    console.log(JSON.stringify({ error: error.code, status: error.statusCode }));
  } else {
    console.error(error);
    process.exit(1);
  }
}
