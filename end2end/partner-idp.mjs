// A partner company's own identity provider for the browser tests: npm's oidc-provider
// with its development sign-in pages (any login and password is accepted; the login names
// the account) and one client, Portico. People are `<login>@northwind.example`, their
// address verified. Usage: node partner-idp.mjs <port> <client id> <client secret> <redirect uri>
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  claims: { email: ["email", "email_verified"], profile: ["name"] },
  cookies: { keys: ["partner-idp-test-cookie-key"] },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@northwind.example`, email_verified: true, name: id };
      },
    };
  },
});
provider.listen(Number(port), "127.0.0.1", () => console.log(`partner provider listening on ${port}`));
