// Passkeys as second factors, in the browser with a virtual authenticator (CDP): a member
// registers one at /account/security; a policy an administrator makes in the console,
// asking a phishing-resistant second factor for the Wiki, sends her to the step-up page,
// where the passkey lets her into the Wiki; later it signs her in without a password. And
// the case: a member of a partner organization on the same Portico (a guest here)
// who signed in at home with a passkey is not asked for a second factor by "Guests need
// MFA" while the organization trusts the partner's multi-factor sign-ins (Admin →
// Cross-tenant access), and is asked when it does not. The Wiki is the example app
// (examples/rp). This file runs a Portico of its own, reached as localhost.
import { expect, Page } from "@playwright/test";
import {
  App, OwnPortico, PASSWORD, expectAccessibleBasics, idTokenClaims, open, startApp, startPortico, stopPortico,
  test, virtualAuthenticator,
} from "./own-portico";

const TENANT = "woodgrove.example";
const CONDITIONAL_ACCESS = "/admin/security/conditional-access";

let portico: OwnPortico;
let wiki: App;


/** Signs in with the address and the password, from the sign-in page. */
async function signInWithPassword(page: Page, email: string) {
  await open(page, `${portico.url}/signin`);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${portico.url}/`);
}

/** Signs in with the address and the browser's passkey, no password. */
async function signInWithPasskey(page: Page, email: string) {
  await open(page, `${portico.url}/signin`);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/step=password/);
  await page.locator("main[data-hydrated]").waitFor();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(`${portico.url}/`);
}

async function signOut(page: Page) {
  await open(page, `${portico.url}/`);
  await page.locator("details.profile > summary").click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL(/\/signin/);
}

/** Registers the browser's passkey as the signed-in person's second factor, named `name`,
 * at the security page; the page then lists it and their recovery codes. */
async function addPasskeyAtSecurity(page: Page, name: string) {
  await open(page, `${portico.url}/account/security`);
  await expectAccessibleBasics(page);
  await page.getByLabel("Name for the passkey (optional)").fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("Passkey added.")).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.getByRole("cell").nth(0)).toHaveText("Passkey");
  await expect(row.getByRole("cell").nth(1)).toHaveText(name);
  await expect(page.getByText("You have 10 recovery codes left.")).toBeVisible();
}

/** Ada, Woodgrove's global administrator, signed in. */
async function ada(newPage: () => Promise<Page>): Promise<Page> {
  const page = await newPage();
  await signInWithPassword(page, "ada@woodgrove.example");
  return page;
}

/** Ada makes an On policy in the console's form: `users` ("everyone", "guests" or an
 * address), the Wiki only, asking a passkey or any second factor. */
async function makePolicy(admin: Page, name: string, users: string, passkey: boolean) {
  await open(admin, `${portico.url}${CONDITIONAL_ACCESS}/new`);
  const state = admin.getByRole("group", { name: "State" });
  const who = admin.getByRole("group", { name: "Users", exact: true });
  const apps = admin.getByRole("group", { name: "Apps", exact: true });
  const grant = admin.getByRole("group", { name: "Grant" });
  await admin.getByLabel("Name", { exact: true }).fill(name);
  await state.getByLabel("On: enforced").check();
  if (users === "guests") {
    await who.getByLabel("All guests and external users").check();
  } else {
    await who.getByLabel("Selected users, groups and roles:").check();
    await who.getByLabel("Users (addresses, one a line)").fill(users);
  }
  await apps.getByLabel("Selected apps:").check();
  await apps.getByLabel("Apps (names, one a line)", { exact: true }).fill("Wiki");
  await grant.getByLabel("Allow, and require:").check();
  await grant.getByLabel(/^A second factor/).setChecked(!passkey);
  await grant.getByLabel("A phishing-resistant second factor (a passkey)").setChecked(passkey);
  await admin.getByRole("button", { name: "Save the policy" }).click();
  await expect(admin).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}`);
  await expect(admin.getByRole("status").filter({ hasText: "Saved the policy" })).toHaveText(`Saved the policy “${name}”.`);
}

/** Ada sets whether Woodgrove trusts Fabrikam's multi-factor sign-ins. */
async function trustFabrikam(admin: Page, trust: boolean) {
  await open(admin, `${portico.url}/admin/security/cross-tenant-access`);
  await admin.getByLabel("Partner", { exact: true }).fill("fabrikam.example");
  await admin.getByLabel("Trust multi-factor authentication from this partner").setChecked(trust);
  await admin.getByRole("button", { name: "Save", exact: true }).click();
  await expect(admin.getByRole("row", { name: /Fabrikam/ }).getByRole("cell").nth(1)).toHaveText(trust ? "Trusted" : "Not trusted");
}

/** Opens the Wiki's sign-in (it goes to Portico's authorization endpoint each time) in the
 * person's page: the virtual authenticator belongs to that page, not to the browser. */
async function openWiki(page: Page): Promise<Page> {
  await page.goto(`${wiki.url}/login`);
  return page;
}

test.describe.serial("Passkeys as second factors", () => {
  test.beforeAll(async () => {
    portico = await startPortico("portico-passkey-factor-");
    portico.cli(["tenant", "create", "--name", "Woodgrove", "--domain", TENANT]);
    portico.cli(["tenant", "create", "--name", "Fabrikam", "--domain", "fabrikam.example"]);
    const user = (tenant: string, email: string, name: string, ...roles: string[]) =>
      portico.cli(["user", "create", "--tenant", tenant, "--email", email, "--name", name, ...roles.flatMap((r) => ["--role", r])], `${PASSWORD}\n`);
    user(TENANT, "ada@woodgrove.example", "Ada Admin", "global-administrator");
    user(TENANT, "mia@woodgrove.example", "Mia Member");
    user("fabrikam.example", "fay@fabrikam.example", "Fay Fabrikam");
    wiki = await startApp(portico, TENANT, "Wiki");
    portico.cli(["app", "assign", "--tenant", TENANT, "--app", "Wiki", "--user", "mia@woodgrove.example"]);
  });

  test.afterAll(() => stopPortico(portico));

  test("a member registers a passkey; a policy asking a phishing-resistant factor for the Wiki takes it at the step-up; later it signs her in", async ({ newPage }) => {
    const mia = await newPage();
    const { cdp, authenticatorId } = await virtualAuthenticator(mia);
    await signInWithPassword(mia, "mia@woodgrove.example");
    await addPasskeyAtSecurity(mia, "Laptop");
    expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials.length).toBe(1);
    // This device has it already.
    await mia.locator("main[data-hydrated]").waitFor();
    await mia.getByRole("button", { name: "Add a passkey" }).click();
    await expect(mia.locator("#passkey-status-add_factor")).toHaveText("This device has a passkey for this account already.");

    const admin = await ada(newPage);
    await makePolicy(admin, "A passkey for the Wiki", "mia@woodgrove.example", true);

    // Signed in again with the password alone, Mia opens the Wiki: the policy sends her to
    // the step-up page, which asks for a passkey and offers hers.
    await signOut(mia);
    await signInWithPassword(mia, "mia@woodgrove.example");
    const tab = await openWiki(mia);
    await expect(tab).toHaveURL(new RegExp(`^${portico.url}/account/verify\\?`));
    const asked = new URL(tab.url());
    expect(asked.searchParams.get("policy")).toBe("A passkey for the Wiki");
    expect(asked.searchParams.get("need")).toBe("passkey");
    await expect(tab.getByText("Your organization's policy “A passkey for the Wiki” asks for a passkey.")).toBeVisible();
    await tab.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(tab);
    // A code from an app would not do: none is asked for.
    await expect(tab.getByLabel("Code from your authenticator app")).toHaveCount(0);
    const use = tab.getByRole("button", { name: "Use a passkey" });
    await use.focus();
    await tab.keyboard.press("Enter");
    await expect(tab.locator("#who")).toHaveText("Signed in as Mia Member <mia@woodgrove.example> (member)");
    expect(new URL(tab.url()).origin).toBe(wiki.url);

    // The Wiki is told: a password and a passkey as a second factor, phishing-resistant.
    const claims = await idTokenClaims(portico, wiki, mia.context());
    expect(claims.amr).toEqual(["pwd", "swk", "mfa"]);
    expect(claims.acr).toBe("urn:portico:acr:phr");

    // Later the passkey signs her in without a password, and the Wiki opens at once.
    await signOut(mia);
    await signInWithPasskey(mia, "mia@woodgrove.example");
    const again = await openWiki(mia);
    await expect(again.locator("#who")).toHaveText("Signed in as Mia Member <mia@woodgrove.example> (member)");
    const passwordless = await idTokenClaims(portico, wiki, mia.context());
    expect(passwordless.amr).toEqual(["swk", "mfa"]);
    expect(passwordless.acr).toBe("urn:portico:acr:phr");
  });

  test("a partner's member who signed in at home with a passkey is asked for a second factor only while the partner's MFA is not trusted", async ({ newPage }) => {
    // Woodgrove invites Fay of Fabrikam, who accepts with her own (Fabrikam) password and is
    // given the Wiki; at home she registers a passkey.
    const invited = portico.cli(["invite", "--tenant", TENANT, "--file", "-", "--no-mail", "--public-url", portico.url], "fay@fabrikam.example,Fay Fabrikam\n");
    const link = invited.match(/(http\S+\/redeem\?ticket=\S+)/)![1];
    const fay = await newPage();
    await virtualAuthenticator(fay);
    await open(fay, link);
    await fay.getByRole("button", { name: "Continue" }).click();
    await fay.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await fay.getByRole("button", { name: "Continue" }).click();
    await expect(fay.getByRole("heading", { name: "Review permissions" })).toBeVisible();
    await fay.locator("main[data-hydrated]").waitFor();
    await fay.getByRole("button", { name: "Accept" }).click();
    await expect(fay.getByRole("heading", { name: "Your contacts at Woodgrove" })).toBeVisible();
    portico.cli(["app", "assign", "--tenant", TENANT, "--app", "Wiki", "--user", "fay@fabrikam.example"]);
    await addPasskeyAtSecurity(fay, "Fay's laptop");

    const admin = await ada(newPage);
    await makePolicy(admin, "Guests need MFA", "guests", false);

    // At home, Fay signs in with the passkey alone.
    await signOut(fay);
    await signInWithPasskey(fay, "fay@fabrikam.example");
    await expect(fay.locator("header .profile-org")).toHaveText("Fabrikam");

    // Woodgrove does not trust Fabrikam's multi-factor sign-ins (the default): asked.
    const untrusted = await openWiki(fay);
    await expect(untrusted).toHaveURL(new RegExp(`^${portico.url}/account/verify\\?`));
    expect(new URL(untrusted.url()).searchParams.get("policy")).toBe("Guests need MFA");
    await expect(untrusted.getByText("Your organization's policy “Guests need MFA” asks for a second factor.")).toBeVisible();

    // Trusted: the same sign-in goes straight into the Wiki, unasked.
    await trustFabrikam(admin, true);
    const trusted = await openWiki(fay);
    await expect(trusted.locator("#who")).toHaveText("Signed in as Fay Fabrikam <fay@fabrikam.example> (guest)");

    // Not trusted any more: asked again; her passkey, verified at Portico's step-up page,
    // counts whatever the trust, and lets her in.
    await trustFabrikam(admin, false);
    const asked = await openWiki(fay);
    await expect(asked).toHaveURL(new RegExp(`^${portico.url}/account/verify\\?`));
    await asked.locator("main[data-hydrated]").waitFor();
    await asked.getByRole("button", { name: "Use a passkey" }).click();
    await expect(asked.locator("#who")).toHaveText("Signed in as Fay Fabrikam <fay@fabrikam.example> (guest)");
  });
});
