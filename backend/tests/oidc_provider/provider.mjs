// A real OpenID Connect provider for the SSO tests (backend/tests/auth/test_oidc.py):
// node provider.mjs <port> <redirect uri>. Prints "listening <issuer>" once it serves.
//
// Sign-in uses oidc-provider's own HTML login and consent forms (devInteractions): any password,
// and the login name decides the account: "<email>" is that address, verified;
// "unverified:<email>" is that address with email_verified false. Clients: "docchat" (the app
// under test) and "other-app" (whose ID tokens carry the wrong audience for DocChat).
import Provider from "oidc-provider";

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error("usage: node provider.mjs <port> <redirect uri>");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

function account(login) {
  const unverified = login.startsWith("unverified:");
  const email = unverified ? login.slice("unverified:".length) : login;
  return {
    accountId: login,
    async claims() {
      return {
        sub: login,
        email,
        email_verified: !unverified,
        name: `Test ${email.split("@")[0]}`,
        groups: ["engineering", "everyone"],
      };
    },
  };
}

const client = (clientId, clientSecret) => ({
  client_id: clientId,
  client_secret: clientSecret,
  redirect_uris: [redirectUri],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
});

const provider = new Provider(issuer, {
  clients: [client("docchat", "docchat-test-secret"), client("other-app", "other-app-secret")],
  findAccount: async (_ctx, sub) => account(sub),
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  // The claims of the requested scopes go into the ID token too, as Keycloak and Google do.
  conformIdTokenClaims: false,
  // PKCE for every client, confidential ones included: a flow without it fails.
  pkce: { required: () => true },
  cookies: { keys: ["docchat-test-oidc-provider-cookie-key"] },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;

const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
