// The self-service sign-up portal (examples/signup-portal) against the real Portico: set up
// through Portico's command line and admin console, then partners ask, an approver decides,
// and invitations arrive through Portico's Graph-compatible API. Every browser here runs
// without JavaScript: the portal needs none, and neither do the Portico pages used.
import { Browser, expect, Page, test } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { countMail, mailTo } from "./mailbox";
import { freePort, waitForPort } from "../net";

const PASSWORD = "correct horse battery staple";
const TENANT = "tailspin.example";

const cli = (args: string[], input = "") =>
  execFileSync(process.env.PORTICO_BIN!, ["--data-dir", process.env.PORTICO_DATA_DIR!, ...args], { input }).toString();

async function plainPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  return context.newPage();
}

/** Portico's identity-first sign-in, from wherever Portico asked for it. */
async function enterPassword(page: Page, email: string) {
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** A partner fills the portal's form in. */
async function ask(page: Page, portal: string, who: { name: string; email: string; company: string; reason: string }) {
  await page.goto(`${portal}/`);
  await page.getByLabel("Your name").fill(who.name);
  await page.getByLabel("Work email address").fill(who.email);
  await page.getByLabel("Company").fill(who.company);
  await page.getByLabel("Why do you need access?").fill(who.reason);
  await page.getByLabel(/I accept the terms of use/).check();
  await page.getByRole("button", { name: "Send request" }).click();
}

test.describe.serial("the self-service sign-up portal", () => {
  let portal = "";
  let wiki = "";
  let folder = "";
  const running: ChildProcess[] = [];

  test.beforeAll(async ({ browser }) => {
    // Tailspin, its administrator, an approver, a member who is not one, and the groups.
    cli(["tenant", "create", "--name", "Tailspin", "--domain", TENANT]);
    cli(["user", "create", "--tenant", TENANT, "--email", "tia@tailspin.example", "--name", "Tia Admin", "--role", "global-administrator"], `${PASSWORD}\n`);
    cli(["user", "create", "--tenant", TENANT, "--email", "abe@tailspin.example", "--name", "Abe Approver"], `${PASSWORD}\n`);
    cli(["user", "create", "--tenant", TENANT, "--email", "noa@tailspin.example", "--name", "Noa Nobody"], `${PASSWORD}\n`);
    cli(["group", "create", "--tenant", TENANT, "--name", "Partner approvers"]);
    cli(["group", "add-member", "--tenant", TENANT, "--group", "Partner approvers", "--user", "abe@tailspin.example"]);
    cli(["group", "create", "--tenant", TENANT, "--name", "Partners"]);
    cli(["group", "create", "--tenant", TENANT, "--name", "Litware project"]);

    // The app partners are given: the example app, assigned to the Partners group.
    const wikiPort = await freePort();
    wiki = `http://127.0.0.1:${wikiPort}`;
    cli(["app", "create", "--tenant", TENANT, "--name", "Partner wiki", "--launch-url", `${wiki}/`]);
    cli(["app", "sign-in", "--tenant", TENANT, "--app", "Partner wiki", "--redirect-uri", `${wiki}/callback`]);
    cli(["app", "assign", "--tenant", TENANT, "--app", "Partner wiki", "--group", "Partners"]);
    const wikiClient = JSON.parse(cli(["app", "secret", "--tenant", TENANT, "--app", "Partner wiki", "--json"]));
    running.push(
      spawn(process.env.PORTICO_RP_BIN!, [], {
        env: {
          ...process.env, RP_LISTEN: `127.0.0.1:${wikiPort}`, RP_ISSUER: `${process.env.PORTICO_URL}/${TENANT}/v2.0`,
          RP_CLIENT_ID: wikiClient.client_id, RP_CLIENT_SECRET: wikiClient.client_secret,
        },
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );

    // The portal's own app: it signs approvers in and calls the API. Open to every member,
    // so that the portal's own check of the approvers group is what keeps Noa out.
    const portalPort = await freePort();
    portal = `http://127.0.0.1:${portalPort}`;
    cli(["app", "create", "--tenant", TENANT, "--name", "Sign-up portal", "--launch-url", `${portal}/requests`, "--open-to-all"]);
    cli(["app", "sign-in", "--tenant", TENANT, "--app", "Sign-up portal", "--redirect-uri", `${portal}/callback`]);
    const client = JSON.parse(cli(["app", "secret", "--tenant", TENANT, "--app", "Sign-up portal", "--json"]));

    // Its API permissions, granted by the administrator in the console.
    const admin = await plainPage(browser);
    await admin.goto(`${process.env.PORTICO_URL}/signin`);
    await enterPassword(admin, "tia@tailspin.example");
    await expect(admin).toHaveURL(/\/$/);
    await admin.goto(`${process.env.PORTICO_URL}/admin/apps`);
    await admin.getByRole("link", { name: "Sign-up portal" }).click();
    for (const permission of ["User.Invite.All", "GroupMember.ReadWrite.All", "Group.Read.All"]) {
      await admin.getByLabel("Permission to grant").selectOption(permission);
      await admin.getByLabel(/I grant this to the app itself/).check();
      await admin.getByRole("button", { name: "Grant" }).click();
      await expect(admin.locator("summary", { hasText: `Revoke ${permission}` })).toBeVisible();
    }
    await admin.context().close();

    folder = mkdtempSync(path.join(tmpdir(), "signup-portal-"));
    const rules = path.join(folder, "rules.json");
    writeFileSync(
      rules,
      JSON.stringify({
        approved_by_hand: { groups: ["Partners"], message: "Welcome, {{name}} of {{company}}." },
        domains: [
          { domain: "litware.example", groups: ["Partners", "Litware project"], message: "{{company}} works with {{organization}}: you are approved." },
        ],
      }),
    );
    const smtpPort = process.env.PORTICO_SMTP_PORT!;
    const portalProcess = spawn(
      process.env.PORTICO_PORTAL_BIN!,
      [
        "--listen", `127.0.0.1:${portalPort}`, "--portico-url", process.env.PORTICO_URL!, "--tenant", TENANT,
        "--organization", "Tailspin", "--client-id", client.client_id, "--client-secret", client.client_secret,
        "--approvers-group", "Partner approvers", "--rules", rules, "--database", path.join(folder, "portal.db"),
        "--smtp-host", "127.0.0.1", "--smtp-port", smtpPort, "--smtp-tls", "none",
        "--mail-from", "Tailspin partner access <partners@tailspin.example>",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    running.push(portalProcess);
    await waitForPort(wikiPort);
    await waitForPort(portalPort);
  });

  test.afterAll(() => {
    for (const child of running) child.kill();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test("partners ask; mistakes are said in words and what was typed is kept; the request waits and the partner is told", async ({ browser }) => {
    const page = await plainPage(browser);
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${portal}/`);
    await expect(page.getByRole("heading", { name: "Ask for access" })).toBeVisible();
    await page.getByLabel("Your name").fill("Pia Partner");
    await page.getByLabel("Work email address").fill("pia@adatum");
    await page.getByRole("button", { name: "Send request" }).click();
    await expect(page).toHaveTitle(/^Error: ask for access/);
    const summary = page.getByRole("alert");
    await expect(summary).toContainText("There is a problem");
    await expect(summary.getByRole("link")).toHaveText([
      "Enter an email address like name@company.com.",
      "Enter your company.",
      "Enter why you need access.",
      "Accept the terms of use to send your request.",
    ]);
    await expect(page.getByLabel("Your name")).toHaveValue("Pia Partner");
    await expect(page.getByLabel("Work email address")).toHaveValue("pia@adatum");
    await expect(page.getByLabel("Work email address")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Company")).toHaveAccessibleDescription("Error: Enter your company.");
    // Nothing fits wider than the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);

    await ask(page, portal, { name: "Pia Partner", email: "Pia@Adatum.example", company: "Adatum", reason: "The Adatum integration" });
    await expect(page.getByRole("heading", { name: "Request sent" })).toBeVisible();
    const waiting = await mailTo("pia@adatum.example", /waiting for review/);
    expect(waiting.text).toContain("Hello Pia Partner");

    // The same address again, while it waits: refused, and said why.
    await ask(page, portal, { name: "Pia Partner", email: "pia@adatum.example", company: "Adatum", reason: "Again" });
    await expect(page.getByRole("alert")).toContainText("A request from this address is already waiting for review");

    for (const [name, email] of [["Dan Denied", "dan@adatum.example"], ["Eve Early", "eve@adatum.example"], ["Finn Fast", "finn@adatum.example"]]) {
      await ask(page, portal, { name, email, company: "Adatum", reason: "The Adatum integration" });
      await expect(page.getByRole("heading", { name: "Request sent" })).toBeVisible();
    }
    await page.context().close();
  });

  test("someone outside the approvers group signs in through Portico and is refused", async ({ browser }) => {
    const page = await plainPage(browser);
    await page.goto(`${portal}/requests`);
    await expect(page).toHaveURL(/\/signin\?next=/);
    await enterPassword(page, "noa@tailspin.example");
    await expect(page.getByRole("heading", { name: "You are not an approver" })).toBeVisible();
    await expect(page.getByText("pia@adatum.example")).toHaveCount(0);
    await page.context().close();
  });

  test("an approver approves one, denies one with a comment, approves two at once, and sees the history", async ({ browser }) => {
    const page = await plainPage(browser);
    await page.goto(`${portal}/requests`);
    await expect(page).toHaveURL(/\/signin\?next=/);
    await enterPassword(page, "abe@tailspin.example");
    await expect(page.getByRole("heading", { name: "Requests" })).toBeVisible();
    await expect(page.getByRole("table")).toContainText("4 waiting");

    await page.getByRole("link", { name: "Pia Partner" }).click();
    await expect(page.getByText("Approving invites pia@adatum.example and adds them to: Partners.")).toBeVisible();
    await page.getByLabel("Comment").fill("Known from the Adatum project");
    await page.getByRole("button", { name: "Approve and invite" }).click();
    await expect(page.getByRole("status")).toHaveText("Approved: 1 invitation sent.");

    await page.getByRole("link", { name: "Dan Denied" }).click();
    await page.getByRole("button", { name: "Deny" }).click();
    await expect(page.getByRole("alert")).toHaveText("Enter a comment saying why the request is denied.");
    await page.getByLabel("Comment").fill("We do not work with this team yet.");
    await page.getByRole("button", { name: "Deny" }).click();
    await expect(page.getByRole("status")).toHaveText("Denied dan@adatum.example; they were told by mail.");
    const denial = await mailTo("dan@adatum.example", /not approved/);
    expect(denial.text).toContain("We do not work with this team yet.");

    await page.getByRole("button", { name: "Approve selected" }).click();
    await expect(page.getByRole("alert")).toContainText("Select at least one request to approve.");
    await page.getByLabel("Select Eve Early (eve@adatum.example)").check();
    await page.getByLabel("Select Finn Fast (finn@adatum.example)").check();
    await page.getByLabel("Comment for the selected requests (optional)").fill("Adatum team");
    await page.getByRole("button", { name: "Approve selected" }).click();
    await expect(page.getByRole("status")).toHaveText("Approved: 2 invitations sent.");
    await expect(page.getByText("No requests are waiting.")).toBeVisible();
    await mailTo("eve@adatum.example", /invited you/);
    await mailTo("finn@adatum.example", /invited you/);
    expect(countMail("dan@adatum.example", /invited you/)).toBe(0);

    await page.getByRole("link", { name: "History" }).click();
    const rows = page.getByRole("table").getByRole("row");
    const pia = rows.filter({ hasText: "pia@adatum.example" }).getByRole("cell");
    await expect(pia.nth(1)).toHaveText("Approved");
    await expect(pia.nth(2)).toHaveText("Abe Approver (abe@tailspin.example)");
    await expect(pia.nth(4)).toHaveText("Known from the Adatum project");
    await expect(rows.filter({ hasText: "dan@adatum.example" }).getByRole("cell").nth(1)).toHaveText("Denied");
    await expect(rows.filter({ hasText: "eve@adatum.example" }).getByRole("cell").nth(4)).toHaveText("Adatum team");
    await page.context().close();
  });

  test("the approved partner redeems the mailed invitation and opens the app their group was given", async ({ browser }) => {
    const invitation = await mailTo("pia@adatum.example", /invited you/);
    expect(invitation.text).toContain("Welcome, Pia Partner of Adatum.");
    const link = invitation.text.match(/(http\S+\/redeem\?ticket=\S+)/)![1];
    const page = await plainPage(browser);
    await page.goto(link);
    await expect(page.getByRole("heading", { name: "Tailspin invites you" })).toBeVisible();
    await page.getByRole("button", { name: "Continue" }).click();
    const code = (await mailTo("pia@adatum.example", /verification code/)).text.match(/\b(\d{8})\b/)![1];
    await page.getByLabel("Code").fill(code);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("heading", { name: "Review permissions" })).toBeVisible();
    await page.getByRole("button", { name: "Accept" }).click();
    await expect(page.getByRole("heading", { name: "Your contacts at Tailspin" })).toBeVisible();
    const tile = page.getByRole("link", { name: /Partner wiki/ });
    await expect(tile).toHaveAttribute("href", `${wiki}/`);
    await page.goto(`${wiki}/`);
    await expect(page.locator("#who")).toHaveText("Signed in as Pia Partner <pia@adatum.example> (guest)");
    await page.context().close();
  });

  test("a partner from a domain approved in advance is invited at once, into the rule's groups", async ({ browser }) => {
    const page = await plainPage(browser);
    await ask(page, portal, { name: "Lou Litware", email: "lou@litware.example", company: "Litware", reason: "Litware project" });
    await expect(page.getByRole("heading", { name: "Check your mail" })).toBeVisible();
    const invitation = await mailTo("lou@litware.example", /invited you/);
    expect(invitation.text).toContain("Litware works with Tailspin: you are approved.");
    expect(countMail("lou@litware.example", /waiting for review/)).toBe(0);

    // Recorded as the rule's decision.
    await page.goto(`${portal}/history`);
    await enterPassword(page, "abe@tailspin.example");
    await expect(page.getByRole("heading", { name: "History" })).toBeVisible();
    const row = page.getByRole("table").getByRole("row").filter({ hasText: "lou@litware.example" });
    await expect(row).toContainText("Approved by the rule for litware.example");
    await expect(row.getByRole("cell").nth(2)).toHaveText("Domain rule");
    await page.context().close();

    // Portico has Lou in both of the rule's groups.
    const admin = await plainPage(browser);
    await admin.goto(`${process.env.PORTICO_URL}/signin`);
    await enterPassword(admin, "tia@tailspin.example");
    await expect(admin).toHaveURL(/\/$/);
    for (const group of ["Partners", "Litware project"]) {
      await admin.goto(`${process.env.PORTICO_URL}/admin/groups`);
      await admin.getByRole("link", { name: group, exact: true }).click();
      await expect(admin.getByRole("link", { name: "Lou Litware" })).toBeVisible();
    }
    await admin.context().close();
  });
});
