// A guest's life after acceptance, in the browser: access that ends unless a sponsor renews
// it, and an access review in which the sponsor denies a guest. Each test runs a Portico of
// its own (its own data folder and free port) because `portico lifecycle --as-of` moves the
// clock for everything in a database; mail goes to the run's SMTP server (global-setup.ts).
import { BrowserContext, expect, Page, test as base } from "@playwright/test";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { countMail, mailTo } from "./mailbox";
import { freePort, waitForPort } from "../net";

const PASSWORD = "correct horse battery staple";
const DAY = 86_400;

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

/** Every page the test opens fails it if the browser reported an error there. */
const test = base.extend<{ portico: Portico; newPage: () => Promise<Page> }>({
  portico: async ({}, use) => {
    const data = mkdtempSync(path.join(tmpdir(), "portico-lifecycle-"));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = spawn(
      process.env.PORTICO_BIN!,
      [
        "--data-dir", data, "--log-level", "warn", "serve", "--listen", `127.0.0.1:${port}`, "--public-url", url,
        "--site-root", process.env.PORTICO_SITE_ROOT!, "--smtp-host", "127.0.0.1", "--smtp-port", process.env.PORTICO_SMTP_PORT!,
        "--smtp-tls", "none", "--mail-retry-seconds", "1",
      ],
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
  // Each person in a browser of their own; after the test (and before its Portico stops),
  // none of their pages may have reported an error.
  newPage: async ({ browser, portico }, use) => {
    void portico;
    const contexts: BrowserContext[] = [];
    const watched: string[][] = [];
    await use(async () => {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      watched.push(watchErrors(page));
      return page;
    });
    for (const context of contexts) await context.close();
    expect(watched.flat(), "errors in the browser console").toEqual([]);
  },
});

/** Opens a page and waits until the WebAssembly has hydrated it. */
async function open(page: Page, url: string) {
  await page.goto(url);
  await page.locator("main[data-hydrated]").waitFor();
}

/** Identity-first: the address, then (for members) the password. */
async function enterPassword(page: Page, email: string) {
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function signIn(page: Page, portico: Portico, email: string) {
  await open(page, `${portico.url}/signin`);
  await enterPassword(page, email);
  await expect(page).toHaveURL(`${portico.url}/`);
}

/** Woodgrove, with Ada (global administrator) and Sam (a member who will sponsor guests). */
function seed(portico: Portico) {
  portico.cli(["tenant", "create", "--name", "Woodgrove", "--domain", "woodgrove.example"]);
  portico.cli(
    ["user", "create", "--tenant", "woodgrove.example", "--email", "ada@woodgrove.example", "--name", "Ada Admin", "--role", "global-administrator"],
    `${PASSWORD}\n`,
  );
  portico.cli(["user", "create", "--tenant", "woodgrove.example", "--email", "sam@woodgrove.example", "--name", "Sam Sponsor"], `${PASSWORD}\n`);
}

/**
 * Ada invites `email` from the console with Sam as sponsor (and `accessDays` typed, when
 * given); the guest takes the code from the delivered mail and accepts in a browser of their
 * own. Returns the guest's page, on their access panel, and what the consent page said of
 * the access period.
 */
async function inviteAndAccept(admin: Page, guestPage: Page, portico: Portico, email: string, name: string, accessDays?: string) {
  await open(admin, `${portico.url}/admin/invitations`);
  await admin.getByLabel("Email address").fill(email);
  await admin.getByLabel("Display name").fill(name);
  await admin.getByLabel("Sponsors").fill("sam@woodgrove.example");
  if (accessDays) await admin.getByLabel("Guest access ends after (days)").fill(accessDays);
  await admin.getByRole("button", { name: "Invite", exact: true }).click();
  const link = await admin.getByLabel("Invitation link").inputValue();

  await open(guestPage, link);
  await expect(guestPage.getByRole("heading", { name: "Woodgrove invites you" })).toBeVisible();
  // The run's SMTP server is shared (and a test may be repeated): wait for this code's mail.
  const codesBefore = countMail(email, /verification code/);
  await guestPage.getByRole("button", { name: "Continue" }).click();
  await expect(guestPage).toHaveURL(/\/redeem\/code$/);
  const code = (await mailTo(email, /verification code/, codesBefore)).text.match(/\b(\d{8})\b/)![1];
  await guestPage.getByLabel("Code").fill(code);
  await guestPage.getByRole("button", { name: "Continue" }).click();
  await expect(guestPage.getByRole("heading", { name: "Review permissions" })).toBeVisible();
  const period = await guestPage.locator("#access-ends").textContent();
  await guestPage.locator("main[data-hydrated]").waitFor();
  await guestPage.getByRole("button", { name: "Accept" }).click();
  await expect(guestPage).toHaveURL(`${portico.url}/`);
  await expect(guestPage.getByRole("heading", { name: "Your contacts at Woodgrove" })).toBeVisible();
  return period;
}

/** `2027-03-07 09:15 UTC`, as Portico writes a time (`types::format::datetime`). */
function datetime(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d).*$/, "$1 $2 UTC");
}

function unixOf(written: string): number {
  return Date.parse(written.replace(" UTC", ":00Z").replace(" ", "T")) / 1000;
}

const now = () => Math.floor(Date.now() / 1000);

test.describe("A guest's access after acceptance", () => {
  test("a sponsor renews from the mail link: the notice comes 14 days before the end, the link asks for a sign-in, and the page shows the new end", async ({ portico, newPage }) => {
    seed(portico);
    const admin = await newPage();
    await signIn(admin, portico, "ada@woodgrove.example");

    // Woodgrove's guests keep access 180 days, and sponsors hear 14 days before the end.
    await open(admin, `${portico.url}/admin/external-collaboration`);
    const periods = admin.getByRole("region", { name: "How long guests' access lasts" });
    await periods.getByLabel("Guest access ends after (days)").fill("180");
    await periods.getByLabel("Tell sponsors this many days before the end").fill("14");
    await periods.getByLabel("Delete this many days after the end").fill("30");
    await periods.getByRole("button", { name: "Save guest access" }).click();
    await expect(admin.getByRole("status")).toHaveText("Saved how long guests' access lasts.");
    await expect(admin.getByLabel("Guest access ends after (days)")).toHaveValue("180");

    // Ada invites Pat for a shorter period, 90 days, with Sam as sponsor; Pat accepts.
    const pat = await newPage();
    const before = now();
    const period = await inviteAndAccept(admin, pat, portico, "pat@lifecycle.example", "Pat Partner", "90");
    const after = now();
    expect(period).toBe("Your access ends 90 days after you accept, unless one of your sponsors at Woodgrove renews it.");

    // The rules that act as time passes, run as of a day before the notice is due: nothing;
    // as of 14 days before the end: the notice (Pat's end lies 90 days after acceptance).
    const lifecycle = (at: number) =>
      JSON.parse(portico.cli(["lifecycle", "--public-url", portico.url, "--as-of", String(at), "--json"])).guests;
    expect(lifecycle(before + 75 * DAY).noticed).toBe(0);
    expect(lifecycle(after + 76 * DAY).noticed).toBe(1);

    // The notice is dated at that moment, so the mailer holds it until then: read it from
    // the outbox, as the operator (`portico outbox list`), not from the SMTP server.
    const outbox: { recipient: string; subject: string; text_body: string }[] =
      JSON.parse(portico.cli(["outbox", "list", "--limit", "50", "--json"]));
    const notice = outbox.find((m) => m.recipient === "sam@woodgrove.example" && /guest access/.test(m.subject))!;
    expect(notice.subject).toMatch(/^Pat Partner's guest access to Woodgrove ends on /);
    const oldEnd = notice.text_body.match(/Their access ends on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)/)![1];
    expect(unixOf(oldEnd)).toBeGreaterThanOrEqual(before + 90 * DAY - 60);
    expect(unixOf(oldEnd)).toBeLessThanOrEqual(after + 90 * DAY);
    const link = notice.text_body.match(/(http\S+\/sponsor\/[0-9a-f-]+)/)![1];
    expect(link.startsWith(`${portico.url}/sponsor/`)).toBe(true);

    // Sam opens the link signed out: Portico asks him to sign in and brings him back.
    const sam = await newPage();
    await sam.goto(link);
    await expect(sam).toHaveURL(/\/signin\?next=(\/|%2F)sponsor(\/|%2F)/);
    await sam.locator("main[data-hydrated]").waitFor();
    await enterPassword(sam, "sam@woodgrove.example");
    await expect(sam).toHaveURL(link);
    await expect(sam.getByRole("heading", { name: "Guest access of Pat Partner" })).toBeVisible();
    const access = sam.getByRole("region", { name: "Access", exact: true });
    await expect(access).toContainText(`Access ends on ${oldEnd}.`);

    // He renews: the end moves by the invitation's 90 days.
    const newEnd = datetime(unixOf(oldEnd) + 90 * DAY);
    await sam.locator("main[data-hydrated]").waitFor();
    await access.getByRole("button", { name: "Renew access" }).click();
    await expect(sam.getByRole("status")).toHaveText(`Renewed: access now ends on ${newEnd}.`);
    await expect(access).toContainText(`Access ends on ${newEnd}.`);

    // The guest's page in the console says the same.
    const patPage = link.replace("/sponsor/", "/admin/users/");
    await open(admin, patPage);
    await expect(admin.getByRole("heading", { name: "Pat Partner", exact: true })).toBeVisible();
    await expect(admin.getByRole("region", { name: "Guest", exact: true })).toContainText(`Access ends on ${newEnd} unless a sponsor renews it.`);
  });

  test("a reviewer denies a guest from the access panel, and once the review is stopped and applied the guest loses the app", async ({ portico, newPage }) => {
    seed(portico);
    const admin = await newPage();
    await signIn(admin, portico, "ada@woodgrove.example");
    const pat = await newPage();
    await inviteAndAccept(admin, pat, portico, "pia@lifecycle.example", "Pia Partner");

    // The Wiki signs in with Portico; Pia is given it directly.
    const callback = "https://wiki.woodgrove.example/callback";
    const wiki = JSON.parse(portico.cli(["app", "create", "--tenant", "woodgrove.example", "--name", "Wiki", "--launch-url", "https://wiki.woodgrove.example/", "--json"]));
    portico.cli(["app", "sign-in", "--tenant", "woodgrove.example", "--app", "Wiki", "--redirect-uri", callback]);
    portico.cli(["app", "assign", "--tenant", "woodgrove.example", "--app", "Wiki", "--user", "pia@lifecycle.example"]);
    const authorize = `${portico.url}/woodgrove.example/oauth2/v2.0/authorize?${new URLSearchParams({
      client_id: wiki.id, redirect_uri: callback, response_type: "code", scope: "openid",
      code_challenge: createHash("sha256").update("a-pkce-verifier-that-is-long-enough-0123456789abcdef").digest("base64url"),
      code_challenge_method: "S256",
    })}`;
    await open(pat, `${portico.url}/`);
    await expect(pat.getByRole("link", { name: /Wiki/ })).toBeVisible();
    const granted = await pat.context().request.get(authorize, { maxRedirects: 0 });
    expect(granted.status()).toBe(303);
    expect(granted.headers()["location"]).toMatch(new RegExp(`^${callback}\\?code=`));

    // Ada starts a review of the Wiki's guests by their sponsors; a denial removes the app.
    await open(admin, `${portico.url}/admin/reviews`);
    const form = admin.getByRole("region", { name: "Start a review" });
    await form.getByLabel("Name", { exact: true }).fill("Wiki guests");
    await form.getByLabel("Guests to review").selectOption({ label: "Guests assigned to an app" });
    await form.getByLabel("App (for guests assigned to an app)").selectOption({ label: "Wiki" });
    await form.getByLabel("Reviewers", { exact: true }).selectOption({ label: "The guest's sponsors" });
    await form.getByLabel("Duration in days").fill("14");
    await form.getByLabel("When a reviewer denies").selectOption({ label: "Remove from the group or app" });
    await form.getByLabel("When nobody decides (or only \"don't know\")").selectOption({ label: "Nothing: they keep their access" });
    const toldBefore = countMail("sam@woodgrove.example", /Please review guests' access: "Wiki guests"/);
    await form.getByRole("button", { name: "Start review" }).click();
    await expect(admin.getByRole("status")).toHaveText("The review \"Wiki guests\" started: 1 guests; reviewers were told by mail.");
    await expect(admin.getByRole("heading", { name: "Wiki guests", exact: true })).toBeVisible();
    const reviewPage = admin.url();

    // Sam is told by mail, and finds the review on his access panel.
    const told = await mailTo("sam@woodgrove.example", /Please review guests' access: "Wiki guests"/, toldBefore);
    expect(told.text).toContain("1 guest(s) wait for your decision");
    const sam = await newPage();
    await signIn(sam, portico, "sam@woodgrove.example");
    const reviews = sam.getByRole("region", { name: "Reviews for you" });
    await expect(reviews).toContainText("1 of 1 guests waiting");
    await reviews.getByRole("link", { name: "Review Wiki guests" }).click();
    await expect(sam.getByRole("heading", { name: "Review: Wiki guests" })).toBeVisible();
    await expect(sam.getByText("Recommended: Approve")).toBeVisible();

    // He denies, with a reason.
    await sam.locator("main[data-hydrated]").waitFor();
    await sam.getByRole("group", { name: "Decision for Pia Partner" }).getByLabel("Deny").check();
    await sam.getByLabel("Reason (required to deny)").fill("The project ended");
    await sam.getByRole("button", { name: "Save decision for Pia Partner" }).click();
    await expect(sam.getByRole("status")).toHaveText("Saved: Deny. You can change it until the review ends.");
    await expect(sam.getByText("Decision: Deny (by")).toBeVisible();

    // Until the review ends Pia keeps the Wiki.
    await open(pat, `${portico.url}/`);
    await expect(pat.getByRole("link", { name: /Wiki/ })).toBeVisible();

    // Ada stops it early; Portico applies it at its next sweep, run here at once.
    await open(admin, reviewPage);
    await admin.getByText("Stop the review now…").click();
    await admin.getByRole("button", { name: "Stop the review", exact: true }).click();
    await expect(admin.getByRole("status")).toHaveText("The review was stopped: reviewers can no longer decide.");
    expect(portico.cli(["lifecycle", "--public-url", portico.url])).toContain("1 access reviews applied.");

    // The results show the denial and what it did.
    await open(admin, reviewPage);
    const row = admin.getByRole("row", { name: /Pia Partner/ });
    await expect(row).toContainText("Deny");
    await expect(row).toContainText("The project ended");
    await expect(row).toContainText("Removed from Wiki");

    // Pia's panel no longer has the Wiki, and opening it is refused.
    await open(pat, `${portico.url}/`);
    await expect(pat.getByRole("heading", { name: "Your contacts at Woodgrove" })).toBeVisible();
    await expect(pat.getByRole("link", { name: /Wiki/ })).toHaveCount(0);
    await pat.goto(authorize);
    await expect(pat.getByRole("heading", { name: "You cannot use Wiki" })).toBeVisible();
    await expect(pat.getByText("You have not been given this app.")).toBeVisible();

    // The review page tells Sam it is over.
    await open(sam, sam.url());
    await expect(sam.getByText("This review has ended: decisions no longer change.")).toBeVisible();
  });
});
