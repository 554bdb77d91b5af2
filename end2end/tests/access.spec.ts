// Who sees what, in the browser: the one page a member or a guest gets at a console page
// their roles do not open, the person's menu in the header (on a phone, by keyboard and
// Escape, without JavaScript), and everyone's own /account. Each test runs a Portico of its own
// (its own data folder and free port), seeded from the command line.
import { Browser, BrowserContext, expect, Page, test as base } from "@playwright/test";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "../net";

const PASSWORD = "correct horse battery staple";
const PHONE = { width: 375, height: 740 };

/** Collects what the browser reports as errors (as in portico.spec.ts). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    const text = message.text().split("\n")[0];
    // A refused request is logged by the browser; it is expected.
    if (message.type() === "error" && !text.startsWith("Failed to load resource")) errors.push(`${page.url()}: ${text}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  return errors;
}

/** A Portico of the test's own: its address and its command line. */
type Portico = { url: string; cli: (args: string[], input?: string) => string };

type Options = Parameters<Browser["newContext"]>[0];

/** Every page the test opens fails it if the browser reported an error there. */
const test = base.extend<{ portico: Portico; newPage: (options?: Options) => Promise<Page> }>({
  portico: async ({}, use) => {
    const data = mkdtempSync(path.join(tmpdir(), "portico-access-"));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = spawn(
      process.env.PORTICO_BIN!,
      ["--data-dir", data, "--log-level", "warn", "serve", "--listen", `127.0.0.1:${port}`, "--public-url", url, "--site-root", process.env.PORTICO_SITE_ROOT!],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    try {
      await waitForPort(port);
      const cli = (args: string[], input = "") =>
        execFileSync(process.env.PORTICO_BIN!, ["--data-dir", data, ...args], { input }).toString();
      await use({ url, cli });
    } finally {
      server.kill();
      rmSync(data, { recursive: true, force: true });
    }
  },
  // Each person in a browser of their own.
  newPage: async ({ browser, portico }, use) => {
    void portico;
    const contexts: BrowserContext[] = [];
    const watched: string[][] = [];
    await use(async (options?: Options) => {
      const context = await browser.newContext(options);
      contexts.push(context);
      const page = await context.newPage();
      if (options?.javaScriptEnabled !== false) watched.push(watchErrors(page));
      return page;
    });
    for (const context of contexts) await context.close();
    expect(watched.flat(), "errors in the browser console").toEqual([]);
  },
});

/** Opens a page and waits until the WebAssembly has hydrated it. */
async function open(page: Page, url: string) {
  const response = await page.goto(url);
  await page.locator("main[data-hydrated]").waitFor();
  return response;
}

async function signIn(page: Page, portico: Portico, email: string, password = PASSWORD) {
  await open(page, `${portico.url}/signin`);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** The person's menu in the header. */
const menu = (page: Page) => page.locator("details.profile > summary");

/**
 * Contoso (Ada and Gus, global administrators; Mia, a member) and Fabrikam (Fay, a member)
 * on one Portico; Contoso invites Fay, who accepts with her own password and becomes a
 * guest there. Returns Fay's page, on her access panel in Contoso.
 */
async function seed(portico: Portico, newPage: (options?: Options) => Promise<Page>, options?: Options) {
  portico.cli(["tenant", "create", "--name", "Contoso", "--domain", "contoso.example"]);
  portico.cli(["tenant", "create", "--name", "Fabrikam", "--domain", "fabrikam.example"]);
  const user = (tenant: string, email: string, name: string, ...roles: string[]) =>
    portico.cli(["user", "create", "--tenant", tenant, "--email", email, "--name", name, ...roles.flatMap((r) => ["--role", r])], `${PASSWORD}\n`);
  user("contoso.example", "ada@contoso.example", "Ada Admin", "global-administrator");
  user("contoso.example", "gus@contoso.example", "Gus Global", "global-administrator");
  user("contoso.example", "mia@contoso.example", "Mia Member");
  user("fabrikam.example", "fay@fabrikam.example", "Fay Fabrikam");
  const invited = portico.cli(["invite", "--tenant", "contoso.example", "--file", "-", "--no-mail", "--public-url", portico.url], "fay@fabrikam.example,Fay Fabrikam\n");
  const link = invited.match(/(http\S+\/redeem\?ticket=\S+)/)![1];
  const fay = await newPage(options);
  await open(fay, link);
  await fay.getByRole("button", { name: "Continue" }).click();
  await fay.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await fay.getByRole("button", { name: "Continue" }).click();
  await expect(fay.getByRole("heading", { name: "Review permissions" })).toBeVisible();
  await fay.getByRole("button", { name: "Accept" }).click();
  await expect(fay.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
  return fay;
}

test("a member and a guest at /admin/users get one page: the role it needs and whom to ask", async ({ portico, newPage }) => {
  const fay = await seed(portico, newPage);
  const mia = await newPage();
  await signIn(mia, portico, "mia@contoso.example");
  await expect(mia).toHaveURL(`${portico.url}/`);

  const answer = await open(mia, `${portico.url}/admin/users`);
  expect(answer!.status()).toBe(403);
  await expect(mia.getByRole("heading", { level: 1 })).toHaveText("You need the User administrator or Global administrator role to manage users");
  await expect(mia.getByText("Roles in Contoso are given by its global administrators. If your work needs this, ask Ada Admin or Gus Global:")).toBeVisible();
  await expect(mia.getByRole("link", { name: "ada@contoso.example" })).toHaveAttribute("href", "mailto:ada@contoso.example");
  // Nothing of the console around it: no menu, no search, no forms.
  await expect(mia.getByRole("navigation", { name: "Admin" })).toHaveCount(0);
  await expect(mia.locator("main form")).toHaveCount(0);
  await expect(mia.locator("main input")).toHaveCount(0);
  await mia.getByRole("link", { name: "Back to my apps" }).click();
  await expect(mia).toHaveURL(`${portico.url}/`);

  // The guest: the same page, pointed at the organization rather than at its people.
  const asGuest = await open(fay, `${portico.url}/admin/users`);
  expect(asGuest!.status()).toBe(403);
  await expect(fay.getByRole("heading", { level: 1 })).toHaveText("You need the User administrator or Global administrator role to manage users");
  await expect(fay.getByText(/Ask an administrator of Contoso/)).toBeVisible();
  await expect(fay.getByText("Ada Admin")).toHaveCount(0);
  await expect(fay.getByRole("navigation", { name: "Admin" })).toHaveCount(0);

  // Signed out, the console sends the browser to sign in, and back after.
  const stranger = await newPage();
  await open(stranger, `${portico.url}/admin/users`);
  await expect(stranger).toHaveURL(`${portico.url}/signin?next=%2Fadmin%2Fusers`);
  await stranger.getByLabel("Email address").fill("ada@contoso.example");
  await stranger.getByRole("button", { name: "Next" }).click();
  await stranger.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await stranger.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(stranger).toHaveURL(`${portico.url}/admin/users`);
  await expect(stranger.getByRole("navigation", { name: "Admin" })).toBeVisible();
});

test("on a phone the header is one row; the menu opens by keyboard, switches organization and holds leaving", async ({ portico, newPage }) => {
  const fay = await seed(portico, newPage, { viewport: PHONE });

  // One row: the brand, the main links and the menu share a line, and nothing overflows.
  const header = (await fay.locator("header.top").boundingBox())!;
  const brand = (await fay.locator("header .brand").boundingBox())!;
  const summary = (await menu(fay).boundingBox())!;
  expect(header.height).toBeLessThan(64);
  expect(Math.abs(brand.y + brand.height / 2 - (summary.y + summary.height / 2))).toBeLessThan(8);
  expect(summary.x + summary.width).toBeLessThanOrEqual(PHONE.width);
  expect(await fay.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  // Leaving is not on the page itself any more.
  await expect(fay.locator("main").getByText(/Leave/)).toHaveCount(0);

  // By keyboard: Tab reaches the menu, Enter opens it.
  await expect(fay.getByRole("link", { name: "Your account" })).toBeHidden();
  for (let i = 0; i < 6 && !(await menu(fay).evaluate((e) => e === document.activeElement)); i++) await fay.keyboard.press("Tab");
  await expect(menu(fay)).toBeFocused();
  await fay.keyboard.press("Enter");
  await expect(fay.getByRole("link", { name: "Your account" })).toBeVisible();
  // Escape closes it and gives the focus back to it, as menus do; Enter opens it again.
  await fay.keyboard.press("Escape");
  await expect(fay.getByRole("link", { name: "Your account" })).toBeHidden();
  await expect(menu(fay)).toBeFocused();
  await fay.keyboard.press("Enter");
  await expect(fay.getByRole("link", { name: "Your account" })).toBeVisible();
  // A click outside it (at the page's foot, below the open menu) closes it too.
  await fay.mouse.click(PHONE.width / 2, PHONE.height - 8);
  await expect(fay.getByRole("link", { name: "Your account" })).toBeHidden();
  await menu(fay).click();
  // Each organization once, the guest one marked, the current one said.
  const organizations = fay.getByRole("group", { name: "Organization" });
  await expect(organizations.getByRole("listitem")).toHaveText(["Fabrikam", "Contoso (guest) · you are here"]);
  const box = (await fay.locator("details.profile .menu").boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);

  // Home to Fabrikam, by keyboard.
  await organizations.getByRole("button", { name: "Fabrikam" }).focus();
  await fay.keyboard.press("Enter");
  await expect(fay.getByRole("heading", { name: "Your contacts at Contoso" })).toHaveCount(0);
  await menu(fay).click();
  await expect(fay.getByRole("group", { name: "Organization" }).getByRole("listitem")).toHaveText(["Fabrikam · you are here", "Contoso (guest)"]);
  // A member at home has nothing to leave.
  await expect(fay.locator("details.profile").getByText(/^Leave/)).toHaveCount(0);

  // Back to Contoso, and leave it from the menu.
  await fay.getByRole("group", { name: "Organization" }).getByRole("button", { name: "Contoso (guest)" }).click();
  await expect(fay.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
  await menu(fay).click();
  await fay.locator("details.profile").getByText("Leave Contoso…").click();
  await expect(fay.getByText("Your guest account at Contoso is removed with its access to apps and groups.")).toBeVisible();
  await fay.getByRole("button", { name: "Leave organization" }).click();
  await expect(fay).toHaveURL(`${portico.url}/`);
  await menu(fay).click();
  await expect(fay.getByRole("group", { name: "Organization" })).toHaveCount(0);
  await expect(fay.locator("details.profile .menu-org")).toHaveText("Fabrikam");
});

test("the menu works without JavaScript", async ({ portico, newPage }) => {
  await seed(portico, newPage);
  const plain = await newPage({ javaScriptEnabled: false, viewport: PHONE });
  await plain.goto(`${portico.url}/signin`);
  await plain.getByLabel("Email address").fill("fay@fabrikam.example");
  await plain.getByRole("button", { name: "Next" }).click();
  await plain.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await plain.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(plain).toHaveURL(`${portico.url}/`);
  await menu(plain).click();
  await plain.getByRole("group", { name: "Organization" }).getByRole("button", { name: "Contoso (guest)" }).click();
  await expect(plain.getByRole("heading", { name: "Your contacts at Contoso" })).toBeVisible();
  await menu(plain).click();
  await plain.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(plain).toHaveURL(/\/signin$/);
});

test("/account: a member signs out another session and changes her password; the old one is refused after", async ({ portico, newPage }) => {
  await seed(portico, newPage);
  const elsewhere = await newPage();
  await signIn(elsewhere, portico, "mia@contoso.example");
  await expect(elsewhere).toHaveURL(`${portico.url}/`);
  const mia = await newPage();
  await signIn(mia, portico, "mia@contoso.example");
  await expect(mia).toHaveURL(`${portico.url}/`);

  await menu(mia).click();
  await mia.getByRole("link", { name: "Your account" }).click();
  await expect(mia.getByRole("heading", { name: "Your account", level: 1 })).toBeVisible();
  await mia.locator("main[data-hydrated]").waitFor();

  // Her two sessions; she signs out the other one.
  const sessions = mia.getByRole("region", { name: "Where you are signed in" }).getByRole("listitem");
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: "This browser" })).toHaveCount(1);
  await sessions.filter({ hasNotText: "This browser" }).getByRole("button", { name: /^Sign out / }).click();
  await expect(mia.getByText("That session is signed out.")).toBeVisible();
  await expect(sessions).toHaveCount(1);
  await open(elsewhere, `${portico.url}/`);
  await expect(elsewhere).toHaveURL(/\/signin/);

  // A wrong current password is refused on its field.
  await mia.getByLabel("Current password").fill("not my password");
  await mia.getByLabel("New password").fill("a brand new passphrase 42");
  await mia.getByRole("button", { name: "Change password" }).click();
  await expect(mia.getByText("That is not your current password.")).toBeVisible();
  await expect(mia.getByLabel("Current password")).toHaveAttribute("aria-invalid", "true");

  await mia.getByLabel("Current password").fill(PASSWORD);
  await mia.getByLabel("New password").fill("a brand new passphrase 42");
  await mia.getByRole("button", { name: "Change password" }).click();
  await expect(mia.getByText("Password changed. You stay signed in here; everywhere else you were signed out.")).toBeVisible();

  // Signed out, the old password no longer works and the new one does.
  await menu(mia).click();
  await mia.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(mia).toHaveURL(/\/signin$/);
  await signIn(mia, portico, "mia@contoso.example");
  await expect(mia.getByRole("alert")).toHaveText("The email address or password is not right.");
  await mia.getByLabel("Password", { exact: true }).fill("a brand new passphrase 42");
  await mia.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(mia).toHaveURL(`${portico.url}/`);

  // The organization's audit log has it.
  const audit = portico.cli(["audit", "export", "--tenant", "contoso.example"]);
  expect(audit).toContain("Change own password");
  expect(audit).toContain("Sign out a session");
});
