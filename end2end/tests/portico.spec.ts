import { expect, Page, test as base } from "@playwright/test";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { countMail, mailTo } from "./mailbox";
import { freePort, waitForPort } from "../net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const PASSWORD = "correct horse battery staple";

/** Collects what the browser reports as errors (a failed hydration shows up here). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    const text = message.text().split("\n")[0];
    // A refused request (a wrong password, say) is logged by the browser; it is expected.
    if (message.type() === "error" && !text.startsWith("Failed to load resource")) errors.push(`${page.url()}: ${text}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  return errors;
}

/** Every test's page fails the test if the browser reported an error on it. */
const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const errors = watchErrors(page);
    await use(page);
    expect(errors, "errors in the browser console").toEqual([]);
  },
});

/** Opens a page and waits until the WebAssembly has hydrated it. */
async function open(page: Page, path: string) {
  const url = path.startsWith("http") ? path : `${process.env.PORTICO_URL}${path}`;
  await page.goto(url);
  await page.locator("main[data-hydrated]").waitFor();
}

/** Identity-first: the address, then (for members) the password. */
async function enterPassword(page: Page, email: string, password: string) {
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function signIn(page: Page, email: string, password: string) {
  await open(page, "/signin");
  await enterPassword(page, email, password);
}

/** Signs out from the person's menu in the header. */
async function signOut(page: Page) {
  await page.locator("details.profile > summary").click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
}

test.describe.serial("Portico in the browser", () => {
  test("the setup link creates the organization, and its admin gives a member an app", async ({ page }) => {
    await open(page, process.env.PORTICO_SETUP_LINK!);
    await page.getByLabel("Name", { exact: true }).fill("Contoso");
    await page.getByLabel("Primary domain").fill("contoso.example");
    await page.getByLabel("Your name").fill("Ada Admin");
    await page.getByLabel("Email address").fill("ada@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create organization" }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
    await expect(page.getByRole("link", { name: "Ada Admin" })).toBeVisible();

    // A member.
    await page.getByLabel("Display name").fill("Mia Member");
    await page.getByLabel("Email address").fill("mia@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create member" }).click();
    await expect(page.getByRole("table").getByRole("link", { name: "Mia Member" })).toBeVisible();

    // A group with the member in it.
    await page.getByRole("link", { name: "Groups", exact: true }).click();
    await page.getByLabel("Name", { exact: true }).fill("Engineering");
    await page.getByRole("button", { name: "Create group" }).click();
    await page.getByRole("link", { name: "Engineering" }).click();
    await page.getByLabel("Add member (email address)").fill("mia@contoso.example");
    await page.locator("form", { has: page.getByLabel("Add member (email address)") }).getByRole("button", { name: "Add" }).click();
    await expect(page.getByRole("link", { name: "Mia Member" })).toBeVisible();

    // An app, assigned to the group.
    await page.getByRole("link", { name: "Apps", exact: true }).click();
    await page.getByLabel("Name", { exact: true }).fill("Wiki");
    await page.getByLabel("Description").fill("Team knowledge");
    await page.getByLabel("Launch address").fill("https://wiki.contoso.example/");
    await page.getByRole("button", { name: "Add app" }).click();
    await page.getByRole("link", { name: "Wiki" }).click();
    await page.getByLabel("Assign a group").selectOption({ label: "Engineering" });
    await page.locator("form", { has: page.getByLabel("Assign a group") }).getByRole("button", { name: "Assign" }).click();
    await expect(page.getByRole("link", { name: "Engineering" })).toBeVisible();

    // Every change is in the audit log.
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("cell", { name: "Add app role assignment" })).toBeVisible();

    await signOut(page);
    await expect(page).toHaveURL(/\/signin$/);
  });

  test("a wrong password says so and signs nobody in", async ({ page }) => {
    await signIn(page, "mia@contoso.example", "not the password");
    await expect(page.getByRole("alert")).toHaveText("The email address or password is not right.");
    await expect(page.locator("details.profile")).toHaveCount(0);
  });

  test("the member signs in, sees the app tile, and signs out", async ({ page }) => {
    await signIn(page, "mia@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    const tile = page.getByRole("link", { name: /Wiki/ });
    await expect(tile).toBeVisible();
    await expect(tile).toHaveAttribute("href", "https://wiki.contoso.example/");
    await expect(page.getByText("Engineering")).toBeVisible();
    await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);

    await open(page, "/admin/users");
    await expect(page.getByRole("heading", { name: "You need the User administrator or Global administrator role to manage users" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Admin" })).toHaveCount(0);

    await signOut(page);
    await expect(page).toHaveURL(/\/signin$/);
    await open(page, "/");
    await expect(page).toHaveURL(/\/signin$/);
  });

  test("an invited guest gets the mail, proves their address, accepts, and finds the app given before", async ({ page, browser }) => {
    await signIn(page, "ada@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await open(page, "/admin/invitations");
    await page.getByLabel("Email address").fill("ann@partner.example");
    await page.getByLabel("Personal message").fill("Welcome to the project!");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(page.getByLabel("Invitation link")).toHaveValue(/\/redeem\?ticket=/);
    await expect(page.getByRole("cell", { name: "Pending acceptance" })).toBeVisible();

    // Ann gets the app while her invitation is still pending.
    await page.getByRole("link", { name: "Apps", exact: true }).click();
    await page.getByRole("link", { name: "Wiki" }).click();
    await page.getByLabel("Assign a user (email address)").fill("ann@partner.example");
    await page.locator("form", { has: page.getByLabel("Assign a user (email address)") }).getByRole("button", { name: "Assign" }).click();
    await expect(page.getByRole("link", { name: "ann" })).toBeVisible();

    // The invitation arrives at the SMTP server with the link.
    const invitation = await mailTo("ann@partner.example", /invited you/);
    expect(invitation.text).toContain("Welcome to the project!");
    const link = invitation.text.match(/(http\S+\/redeem\?ticket=\S+)/)![1];

    const guest = await (await browser.newContext()).newPage();
    const guestErrors = watchErrors(guest);
    await open(guest, link);
    await expect(guest.getByRole("heading", { name: "Contoso invites you" })).toBeVisible();
    await expect(guest.getByText("Welcome to the project!")).toBeVisible();
    await guest.getByRole("button", { name: "Continue" }).click();
    await expect(guest).toHaveURL(/\/redeem\/code$/);
    const code = (await mailTo("ann@partner.example", /verification code/)).text.match(/\b(\d{8})\b/)![1];
    await guest.getByLabel("Code").fill(code);
    await guest.getByRole("button", { name: "Continue" }).click();
    await expect(guest.getByRole("heading", { name: "Review permissions" })).toBeVisible();
    await guest.getByRole("button", { name: "Accept" }).click();
    await expect(guest).toHaveURL(/\/$/);
    await expect(guest.getByRole("link", { name: /Wiki/ })).toBeVisible();
    await expect(guest.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
    expect(guestErrors, "errors in the guest's browser console").toEqual([]);
  });

  test("a member of another organization redeems with their own password and switches between both", async ({ page, browser }) => {
    // Fabrikam, on the same Portico, with its member Fay.
    const cli = (args: string[], input = "") =>
      execFileSync(process.env.PORTICO_BIN!, ["--data-dir", process.env.PORTICO_DATA_DIR!, ...args], { input });
    cli(["tenant", "create", "--name", "Fabrikam", "--domain", "fabrikam.example"]);
    cli(["user", "create", "--tenant", "fabrikam.example", "--email", "fay@fabrikam.example", "--name", "Fay Fabrikam"], `${PASSWORD}\n`);

    await signIn(page, "ada@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await open(page, "/admin/invitations");
    await page.getByLabel("Email address").fill("fay@fabrikam.example");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(page.getByLabel("Invitation link")).toHaveValue(/\/redeem\?ticket=/);
    const link = (await mailTo("fay@fabrikam.example", /invited you/)).text.match(/(http\S+\/redeem\?ticket=\S+)/)![1];

    const fay = await (await browser.newContext()).newPage();
    const fayErrors = watchErrors(fay);
    await open(fay, link);
    await fay.getByRole("button", { name: "Continue" }).click();
    await expect(fay.getByRole("heading", { name: "Sign in with your own account" })).toBeVisible();
    await fay.getByLabel("Password", { exact: true }).fill("not her password");
    await fay.getByRole("button", { name: "Continue" }).click();
    await expect(fay.getByRole("alert")).toBeVisible();
    await fay.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await fay.getByRole("button", { name: "Continue" }).click();
    await expect(fay.getByRole("heading", { name: "Review permissions" })).toBeVisible();
    await fay.getByRole("button", { name: "Accept" }).click();
    await expect(fay).toHaveURL(/\/$/);
    await expect(fay.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
    expect(countMail("fay@fabrikam.example", /verification code/), "no code is mailed to a member").toBe(0);

    // Home, then back to Contoso, with the switcher.
    await fay.locator("details.profile > summary").click();
    const switcher = fay.getByRole("group", { name: "Organization" });
    await expect(switcher.getByRole("listitem")).toHaveText(["Fabrikam", "Contoso (guest) · you are here"]);
    await switcher.getByRole("button", { name: "Fabrikam" }).click();
    await expect(fay.locator("header .profile-org")).toHaveText("Fabrikam");
    await expect(fay.getByRole("heading", { name: "Your contacts at Contoso" })).toHaveCount(0);
    await fay.locator("details.profile > summary").click();
    await fay.getByRole("group", { name: "Organization" }).getByRole("button", { name: "Contoso (guest)" }).click();
    await expect(fay.locator("header .profile-org")).toHaveText("Contoso");
    await expect(fay.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
    expect(fayErrors, "errors in Fay's browser console").toEqual([]);
  });

  test("a CSV file invites its good rows in parts, with progress, and reports every row", async ({ page }) => {
    await signIn(page, "ada@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await open(page, "/admin/invitations");
    const good = Array.from({ length: 118 }, (_, i) => `bulk${String(i).padStart(3, "0")}@partner.example,Bulk ${i}`);
    const csv = [
      "Email address,Display name,Redirect address,Message",
      ...good.slice(0, 60),
      "mia@contoso.example,Mia again",
      "not an address,Nobody",
      ...good.slice(60),
      "\"bulk-x@partner.example\",\"Quoted, Name\",javascript:alert(1)",
    ].join("\r\n");
    await page.getByLabel("CSV file").setInputFiles({ name: "guests.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    // Mail is on until the box is cleared, and the box shows it.
    await expect(page.getByLabel("Send each invitation by mail")).toBeChecked();
    await page.getByLabel("Send each invitation by mail").uncheck();
    await page.getByRole("button", { name: "Invite everyone in the file" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Done:" })).toHaveText(
      "Done: 118 invited, 1 already users, 2 not valid.",
    );
    const progress = page.getByRole("progressbar", { name: "Rows handled" });
    await expect(progress).toHaveAttribute("max", "121");
    await expect(progress).toHaveAttribute("value", "121");
    const row = (line: number) => page.locator(".bulk-report tr", { has: page.getByRole("cell", { name: String(line), exact: true }) });
    await expect(row(62)).toContainText("Already a user here");
    await expect(row(63)).toContainText("Not valid: Email address: Enter an email address like name@example.com.");
    await expect(row(122)).toContainText("Not valid: Redirect address:");
    await expect(row(2)).toContainText("Invited");
    // The invitations list shows them once the page is opened again, and no mail was sent.
    await page.getByRole("link", { name: "See the new invitations in the list" }).click();
    await expect(page.getByRole("cell", { name: "Bulk 117 bulk117@partner.example" })).toBeVisible();
    // The outbox (read as the operator: the mail is written with the invitation, so this
    // is no race with delivery) holds none of their invitations.
    const outbox = (): { recipient: string; subject: string }[] =>
      JSON.parse(execFileSync(process.env.PORTICO_BIN!, ["--data-dir", process.env.PORTICO_DATA_DIR!, "outbox", "list", "--limit", "500", "--json"]).toString());
    const invitedMail = (to: string) => outbox().filter((m) => m.recipient === to && /invited you/.test(m.subject)).length;
    expect(invitedMail("bulk000@partner.example")).toBe(0);
    expect(invitedMail("bulk117@partner.example")).toBe(0);

    // The same with the box left on: each invitation is mailed.
    await open(page, "/admin/invitations");
    await expect(page.getByLabel("Send each invitation by mail")).toBeChecked();
    await page.getByLabel("CSV file").setInputFiles({
      name: "more.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("carl@partner.example,Carl\r\ndora@partner.example,Dora\r\n"),
    });
    await page.getByRole("button", { name: "Invite everyone in the file" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Done:" })).toHaveText("Done: 2 invited, 0 already users, 0 not valid.");
    expect(invitedMail("carl@partner.example")).toBe(1);
    expect(invitedMail("dora@partner.example")).toBe(1);
    await mailTo("dora@partner.example", /invited you/);
  });

  test("single sign-on: members and guests open an app from the panel signed in, others are refused, and signing out of the app ends the session", async ({ page, browser }) => {
    const cli = (args: string[], input = "") =>
      execFileSync(process.env.PORTICO_BIN!, ["--data-dir", process.env.PORTICO_DATA_DIR!, ...args], { input }).toString();
    const port = await freePort();
    const rp = `http://127.0.0.1:${port}`;
    cli(["app", "create", "--tenant", "contoso.example", "--name", "Handbook", "--launch-url", `${rp}/`, "--description", "Signs in with Portico"]);
    cli(["app", "assign", "--tenant", "contoso.example", "--app", "Handbook", "--group", "Engineering"]);
    cli(["app", "assign", "--tenant", "contoso.example", "--app", "Handbook", "--user", "ann@partner.example"]);

    // The admin registers it as a client in the console and takes its secret.
    await signIn(page, "ada@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await open(page, "/admin/apps");
    await page.getByRole("link", { name: "Handbook" }).click();
    await page.getByLabel("Redirect addresses (one per line, matched exactly)").fill(`${rp}/callback`);
    await page.getByLabel("After sign-out addresses (one per line)").fill(`${rp}/bye`);
    await page.getByRole("button", { name: "Save sign-in settings" }).click();
    await expect(page.getByLabel("Redirect addresses (one per line, matched exactly)")).toHaveValue(`${rp}/callback`);
    await page.getByRole("button", { name: "Create a client secret" }).click();
    const secret = await page.getByLabel("Client secret").inputValue();
    const clientId = await page.getByLabel("Client id").inputValue();
    const issuer = await page.getByLabel("Issuer").inputValue();
    expect(secret.length).toBeGreaterThan(40);
    await signOut(page);

    const app = spawn(process.env.PORTICO_RP_BIN!, [], {
      env: { ...process.env, RP_LISTEN: `127.0.0.1:${port}`, RP_ISSUER: issuer, RP_CLIENT_ID: clientId, RP_CLIENT_SECRET: secret },
      stdio: ["ignore", "ignore", "inherit"],
    });
    try {
      await waitForPort(port);
      // Mia (a member, through her group) opens the tile and is signed in.
      await signIn(page, "mia@contoso.example", PASSWORD);
      await expect(page).toHaveURL(/\/$/);
      const [wiki] = await Promise.all([page.context().waitForEvent("page"), page.getByRole("link", { name: /Handbook/ }).click()]);
      await expect(wiki.locator("#who")).toHaveText("Signed in as Mia Member <mia@contoso.example> (member)");

      // Signing out of the app asks, then ends the Portico session too.
      await wiki.getByRole("link", { name: "Sign out" }).click();
      await expect(wiki.getByRole("heading", { name: "Sign out of Portico?" })).toBeVisible();
      await wiki.locator("main").getByRole("button", { name: "Sign out" }).click();
      await expect(wiki.locator("#bye")).toBeVisible();
      await open(page, "/");
      await expect(page).toHaveURL(/\/signin$/);

      // Opening the app first: Portico asks Mia to sign in, then sends her back to it.
      const fresh = await (await browser.newContext()).newPage();
      await fresh.goto(`${rp}/`);
      await expect(fresh).toHaveURL(/\/signin\?next=/);
      await fresh.locator("main[data-hydrated]").waitFor();
      await enterPassword(fresh, "mia@contoso.example", PASSWORD);
      await expect(fresh.locator("#who")).toHaveText("Signed in as Mia Member <mia@contoso.example> (member)");

      // The same without JavaScript.
      const plainContext = await browser.newContext({ javaScriptEnabled: false });
      const plain = await plainContext.newPage();
      await plain.goto(`${rp}/`);
      await expect(plain).toHaveURL(/\/signin\?next=/);
      await enterPassword(plain, "mia@contoso.example", PASSWORD);
      await expect(plain.locator("#who")).toHaveText("Signed in as Mia Member <mia@contoso.example> (member)");
      await plainContext.close();

      // Ann, a guest, signs in with a code and opens it the same way.
      const guest = await (await browser.newContext()).newPage();
      // Identity-first: her address alone sends her the code way.
      await open(guest, "/signin");
      await guest.getByLabel("Email address").fill("ann@partner.example");
      const codesBefore = countMail("ann@partner.example", /sign-in code/);
      await guest.getByRole("button", { name: "Next" }).click();
      await expect(guest).toHaveURL(/\/signin\/code\?sent=1/);
      const code = (await mailTo("ann@partner.example", /sign-in code/, codesBefore)).text.match(/\b(\d{8})\b/)![1];
      await guest.getByLabel("Code").fill(code);
      await guest.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect(guest.getByRole("link", { name: /Handbook/ })).toBeVisible();
      const [guestWiki] = await Promise.all([guest.context().waitForEvent("page"), guest.getByRole("link", { name: /Handbook/ }).click()]);
      await expect(guestWiki.locator("#who")).toHaveText("Signed in as ann <ann@partner.example> (guest)");

      // Fay is a guest of Contoso too, but nobody gave her the app.
      const fay = await (await browser.newContext()).newPage();
      await signIn(fay, "fay@fabrikam.example", PASSWORD);
      await expect(fay).toHaveURL(/\/$/);
      await fay.goto(`${rp}/`);
      await expect(fay.getByRole("heading", { name: "You cannot use Handbook" })).toBeVisible();
      await expect(fay.getByText("You have not been given this app.")).toBeVisible();
    } finally {
      app.kill();
    }
  });

  test("bring your own identity: a partner redeems through their company's provider, opens an app, and signs in there again", async ({ page, browser }) => {
    const cli = (args: string[], input = "") =>
      execFileSync(process.env.PORTICO_BIN!, ["--data-dir", process.env.PORTICO_DATA_DIR!, ...args], { input }).toString();
    // Northwind's own OpenID Connect provider (npm's oidc-provider), with Portico as its client.
    const idpPort = await freePort();
    const issuer = `http://127.0.0.1:${idpPort}`;
    const idp = spawn(
      "node",
      [`${__dirname}/../partner-idp.mjs`, String(idpPort), "portico-at-northwind", "northwind-secret-for-portico", `${process.env.PORTICO_URL}/federation/callback`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    // An app of Contoso's that signs in through Portico.
    const rpPort = await freePort();
    const rp = `http://127.0.0.1:${rpPort}`;
    cli(["app", "create", "--tenant", "contoso.example", "--name", "Timesheets", "--launch-url", `${rp}/`]);
    cli(["app", "sign-in", "--tenant", "contoso.example", "--app", "Timesheets", "--redirect-uri", `${rp}/callback`]);
    const client = JSON.parse(cli(["app", "secret", "--tenant", "contoso.example", "--app", "Timesheets", "--json"]));
    const discovery = await fetch(`${process.env.PORTICO_URL}/contoso.example/v2.0/.well-known/openid-configuration`);
    const app = spawn(process.env.PORTICO_RP_BIN!, [], {
      env: {
        ...process.env, RP_LISTEN: `127.0.0.1:${rpPort}`, RP_ISSUER: (await discovery.json()).issuer,
        RP_CLIENT_ID: client.client_id, RP_CLIENT_SECRET: client.client_secret,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    try {
      await waitForPort(idpPort);
      await waitForPort(rpPort);
      // Ada sets the provider up for northwind.example; Portico reads its discovery document.
      await signIn(page, "ada@contoso.example", PASSWORD);
      await expect(page).toHaveURL(/\/$/);
      await open(page, "/admin/external-identities");
      await expect(page.locator("#redirect-uri")).toHaveText(`${process.env.PORTICO_URL}/federation/callback`);
      await page.getByLabel("Name", { exact: true }).fill("Northwind sign-in");
      await page.getByLabel("Issuer").fill(issuer);
      await page.getByLabel("Client id").fill("portico-at-northwind");
      await page.getByLabel("Client secret").fill("northwind-secret-for-portico");
      await page.getByLabel("Email domains").fill("northwind.example");
      await page.getByRole("button", { name: "Check and add" }).click();
      await expect(page.getByRole("status")).toHaveText("Provider added.");
      await expect(page.getByRole("cell", { name: "northwind.example" })).toBeVisible();
      await expect(page.getByRole("combobox", { name: "Primary" })).toHaveValue("home,federation");

      await open(page, "/admin/invitations");
      await page.getByLabel("Email address").fill("nia@northwind.example");
      await page.getByRole("button", { name: "Invite", exact: true }).click();
      await expect(page.getByLabel("Invitation link")).toHaveValue(/\/redeem\?ticket=/);
      cli(["app", "assign", "--tenant", "contoso.example", "--app", "Timesheets", "--user", "nia@northwind.example"]);
      const link = (await mailTo("nia@northwind.example", /invited you/)).text.match(/(http\S+\/redeem\?ticket=\S+)/)![1];

      // Nia redeems: her company's provider signs her in; no code is mailed to her.
      const nia = await (await browser.newContext()).newPage();
      const niaErrors = watchErrors(nia);
      await open(nia, link);
      await nia.getByRole("button", { name: "Continue" }).click();
      await expect(nia.getByRole("heading", { name: "Sign in with Northwind sign-in" })).toBeVisible();
      await nia.getByRole("button", { name: "Continue to Northwind sign-in" }).click();
      await expect(nia).toHaveURL(new RegExp(`^${issuer}/`));
      await nia.locator("input[name=login]").fill("nia");
      await nia.locator("input[name=password]").fill("anything at Northwind");
      await nia.locator("button[type=submit]").click();
      await nia.locator("button[type=submit]", { hasText: "Continue" }).click();
      await expect(nia.getByRole("heading", { name: "Review permissions" })).toBeVisible();
      await expect(nia.locator("#identity-used")).toHaveText(/You signed in with Northwind sign-in/);
      await nia.locator("main[data-hydrated]").waitFor();
      await nia.getByRole("button", { name: "Accept" }).click();
      await expect(nia.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
      expect(countMail("nia@northwind.example", /code/)).toBe(0);

      // She opens the app from her panel: its ID token says where she signed in.
      const [timesheets] = await Promise.all([nia.context().waitForEvent("page"), nia.getByRole("link", { name: /Timesheets/ }).click()]);
      await expect(timesheets.locator("#who")).toHaveText("Signed in as nia <nia@northwind.example> (guest)");

      // Signed out, she signs in again: her address takes her to her provider.
      await signOut(nia);
      await expect(nia).toHaveURL(/\/signin/);
      await open(nia, "/signin");
      await nia.getByLabel("Email address").fill("nia@northwind.example");
      await nia.getByRole("button", { name: "Next" }).click();
      await expect(nia.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
      await expect(nia.getByRole("link", { name: /Timesheets/ })).toBeVisible();
      expect(niaErrors, "errors in Nia's browser console").toEqual([]);
    } finally {
      app.kill();
      idp.kill();
    }
  });

  test("passkeys: an invited person makes a Portico account with a passkey and signs in with it", async ({ browser }) => {
    // WebAuthn wants a domain name, so this Portico of its own is reached as localhost.
    const data = mkdtempSync(path.join(tmpdir(), "portico-passkeys-"));
    const cli = (args: string[], input = "") =>
      execFileSync(process.env.PORTICO_BIN!, ["--data-dir", data, ...args], { input }).toString();
    cli(["tenant", "create", "--name", "Tailspin", "--domain", "tailspin.example"]);
    cli(["user", "create", "--tenant", "tailspin.example", "--email", "tia@tailspin.example", "--name", "Tia Admin", "--role", "global-administrator"], `${PASSWORD}\n`);
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const server = spawn(
      process.env.PORTICO_BIN!,
      ["--data-dir", data, "--log-level", "warn", "serve", "--listen", `127.0.0.1:${port}`, "--public-url", url, "--site-root", process.env.PORTICO_SITE_ROOT!],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    try {
      await waitForPort(port);
      // Tia lets invited people make an account, and invites Zed.
      const admin = await (await browser.newContext()).newPage();
      const adminErrors = watchErrors(admin);
      await open(admin, `${url}/signin`);
      await enterPassword(admin, "tia@tailspin.example", PASSWORD);
      await expect(admin).toHaveURL(`${url}/`);
      await open(admin, `${url}/admin/external-identities`);
      await admin.getByRole("combobox", { name: "Fallback" }).selectOption("account,code");
      await admin.getByRole("button", { name: "Save order" }).click();
      await expect(admin.getByRole("status")).toHaveText("Redemption order saved.");
      await open(admin, `${url}/admin/invitations`);
      await admin.getByLabel("Email address").fill("zed@elsewhere.example");
      await admin.getByRole("button", { name: "Invite", exact: true }).click();
      const link = await admin.getByLabel("Invitation link").inputValue();
      expect(adminErrors).toEqual([]);

      // Zed's browser has a (virtual) platform authenticator.
      const context = await browser.newContext();
      const zed = await context.newPage();
      const zedErrors = watchErrors(zed);
      const cdp = await context.newCDPSession(zed);
      await cdp.send("WebAuthn.enable");
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      await open(zed, link);
      await zed.getByRole("button", { name: "Continue" }).click();
      await expect(zed.getByRole("heading", { name: "Check your mail" })).toBeVisible();
      const mails: { recipient: string; subject: string; text_body: string }[] = JSON.parse(cli(["outbox", "list", "--limit", "50", "--json"]));
      const code = mails.find((m) => m.recipient === "zed@elsewhere.example" && /code/.test(m.subject))!.text_body.match(/\b(\d{8})\b/)![1];
      await zed.getByLabel("Code").fill(code);
      await zed.getByRole("button", { name: "Continue" }).click();
      await expect(zed.getByRole("heading", { name: "Create your Portico account" })).toBeVisible();
      await zed.locator("main[data-hydrated]").waitFor();
      await zed.getByRole("button", { name: "Create a passkey (recommended)" }).click();
      await expect(zed.getByRole("heading", { name: "Review permissions" })).toBeVisible();
      await expect(zed.locator("#identity-used")).toHaveText("You will sign in with your Portico account.");
      await zed.locator("main[data-hydrated]").waitFor();
      await zed.getByRole("button", { name: "Accept" }).click();
      await expect(zed.getByRole("heading", { name: "Your contacts at Tailspin" })).toBeVisible();
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials.length).toBe(1);

      // Later: the address leads to the account, and the passkey signs Zed in.
      await signOut(zed);
      await expect(zed).toHaveURL(/\/signin/);
      await open(zed, `${url}/signin`);
      await zed.getByLabel("Email address").fill("zed@elsewhere.example");
      await zed.getByRole("button", { name: "Next" }).click();
      await expect(zed).toHaveURL(/step=account/);
      await zed.locator("main[data-hydrated]").waitFor();
      await zed.getByRole("button", { name: "Sign in with a passkey" }).click();
      await expect(zed.getByRole("heading", { name: "Your contacts at Tailspin" })).toBeVisible();

      // An app Zed opens is told how he signed in: a passkey (`swk`), with user verification (`mfa`).
      const notes = JSON.parse(cli(["app", "create", "--tenant", "tailspin.example", "--name", "Notes", "--launch-url", "https://notes.example/", "--json"]));
      cli(["app", "sign-in", "--tenant", "tailspin.example", "--app", "Notes", "--client-type", "public", "--redirect-uri", "http://127.0.0.1/cb"]);
      cli(["app", "assign", "--tenant", "tailspin.example", "--app", "Notes", "--user", "zed@elsewhere.example"]);
      const verifier = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";
      const back = "http://127.0.0.1:41234/cb";
      const asked = new URLSearchParams({
        client_id: notes.id, redirect_uri: back, response_type: "code", scope: "openid",
        code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
      });
      const authorized = await context.request.get(`${url}/tailspin.example/oauth2/v2.0/authorize?${asked}`, { maxRedirects: 0 });
      expect(authorized.status()).toBe(303);
      const granted = new URL(authorized.headers()["location"]).searchParams.get("code")!;
      const tokens = await (await fetch(`${url}/tailspin.example/oauth2/v2.0/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "authorization_code", code: granted, redirect_uri: back, code_verifier: verifier, client_id: notes.id }),
      })).json();
      const claims = JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url").toString());
      expect(claims.amr).toEqual(["swk", "mfa"]);

      // His account page: the passkey is listed; this device has it already; he adds a password.
      await zed.locator("details.profile > summary").click();
      await zed.getByRole("link", { name: "Your account" }).click();
      await expect(zed.getByRole("heading", { name: "Your account" })).toBeVisible();
      await expect(zed.getByRole("button", { name: "Remove passkey 1" })).toBeVisible();
      await zed.locator("main[data-hydrated]").waitFor();
      await zed.getByRole("button", { name: "Add a passkey" }).click();
      await expect(zed.locator("#passkey-status-add")).toHaveText("This device has a passkey for this account already.");
      await zed.getByLabel("New password").fill("zed's chosen passphrase");
      await zed.getByRole("button", { name: "Save password" }).click();
      await expect(zed.getByText("Password saved.")).toBeVisible();
      await expect(zed.getByRole("heading", { name: "Change your password" })).toBeVisible();
      expect(zedErrors, "errors in Zed's browser console").toEqual([]);
    } finally {
      server.kill();
      rmSync(data, { recursive: true, force: true });
    }
  });

  test("signing in works without JavaScript", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${process.env.PORTICO_URL}/signin`);
    await enterPassword(page, "mia@contoso.example", "wrong password here");
    await expect(page.getByRole("alert")).toHaveText("The email address or password is not right.");
    await expect(page.getByText("Signing in as mia@contoso.example.")).toBeVisible();
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("link", { name: /Wiki/ })).toBeVisible();
    await context.close();
  });

  test("an owner who is no admin invites a partner to the app they own from the access panel, and adds them to their group", async ({ page, browser }) => {
    // Olive, a member, owns the Wiki (given by Ada in the console) and the Design group.
    const cli = (args: string[], input = "") =>
      execFileSync(process.env.PORTICO_BIN!, ["--data-dir", process.env.PORTICO_DATA_DIR!, ...args], { input });
    cli(["user", "create", "--tenant", "contoso.example", "--email", "olive@contoso.example", "--name", "Olive Owner"], `${PASSWORD}\n`);
    cli(["group", "create", "--tenant", "contoso.example", "--name", "Design"]);
    cli(["group", "add-member", "--tenant", "contoso.example", "--group", "Design", "--user", "olive@contoso.example", "--owner"]);
    await signIn(page, "ada@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await open(page, "/admin/apps");
    await page.getByRole("link", { name: "Wiki" }).click();
    await page.getByLabel("Add owner (email address)").fill("olive@contoso.example");
    await page.locator("form", { has: page.getByLabel("Add owner (email address)") }).getByRole("button", { name: "Add" }).click();
    await expect(page.getByRole("link", { name: "Olive Owner" })).toBeVisible();
    await signOut(page);

    // From her access panel, Olive invites Pat to the Wiki: one step, one mail.
    await signIn(page, "olive@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole("heading", { name: "Manage", exact: true })).toBeVisible();
    await page.getByRole("link", { name: "Manage Wiki" }).click();
    await expect(page.getByRole("heading", { name: "Manage Wiki" })).toBeVisible();
    await expect(page.getByText("Mia Member")).toHaveCount(0);
    await page.getByLabel("Email address").fill("pat@partner.example");
    await page.getByLabel("Message for a new guest").fill("Our wiki, for the launch.");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("pat@partner.example was invited by mail");
    const access = page.getByRole("region", { name: "Who has access" });
    await expect(access.getByRole("listitem").filter({ hasText: "pat@partner.example" })).toContainText("Guest, pending acceptance");
    await expect(page.getByRole("region", { name: "Your invitations waiting" })).toContainText("pat@partner.example");

    // Pat redeems from the delivered mail and finds the Wiki.
    const invitation = await mailTo("pat@partner.example", /invited you/);
    expect(invitation.subject).toContain("Olive Owner");
    expect(invitation.text).toContain("Our wiki, for the launch.");
    const link = invitation.text.match(/(http\S+\/redeem\?ticket=\S+)/)![1];
    const pat = await (await browser.newContext()).newPage();
    const patErrors = watchErrors(pat);
    await open(pat, link);
    await pat.getByRole("button", { name: "Continue" }).click();
    const code = (await mailTo("pat@partner.example", /verification code/)).text.match(/\b(\d{8})\b/)![1];
    await pat.getByLabel("Code").fill(code);
    await pat.getByRole("button", { name: "Continue" }).click();
    await pat.getByRole("button", { name: "Accept" }).click();
    await expect(pat).toHaveURL(/\/$/);
    await expect(pat.getByRole("link", { name: /Wiki/ })).toBeVisible();

    // Olive adds Pat to the Design group, with plain forms (no JavaScript).
    const plain = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await plain.goto(`${process.env.PORTICO_URL}/signin`);
    await enterPassword(plain, "olive@contoso.example", PASSWORD);
    await plain.getByRole("link", { name: "Manage Design" }).click();
    await plain.getByLabel("Email address").fill("pat@partner.example");
    await plain.getByRole("button", { name: "Add", exact: true }).click();
    await expect(plain.getByRole("status")).toContainText("was added");
    await expect(plain.getByRole("region", { name: "Who has access" }).getByRole("listitem")).toContainText("Guest, accepted");
    await open(pat, "/");
    await expect(pat.getByText("Design")).toBeVisible();
    expect(patErrors, "errors in Pat's browser console").toEqual([]);

    // Mia owns nothing: no Manage for her.
    await signOut(page);
    await signIn(page, "mia@contoso.example", PASSWORD);
    await expect(page.getByRole("link", { name: /Wiki/ })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Manage", exact: true })).toHaveCount(0);
    await expect(page.getByRole("link", { name: /^Manage / })).toHaveCount(0);
  });
});
