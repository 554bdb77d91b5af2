// Forms in the browser: a refused form gives back what was typed (never a password), puts
// the focus on its error and keeps the error out of the address bar; each sign-in, code and
// setup step opens with the focus in its first field, shown by a ring people can see; and
// destructive actions ask first, with JavaScript and without. This file runs a Portico of its
// own (its own data folder and free port), so that its first-run setup link is fresh.
import { Browser, expect, Page, test as base } from "@playwright/test";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

const PASSWORD = "correct horse battery staple";

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

/** Every test's page fails the test if the browser reported an error on it. */
const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const errors = watchErrors(page);
    await use(page);
    expect(errors, "errors in the browser console").toEqual([]);
  },
});

/** This file's Portico: its address and its first-run setup link. */
const portico = { url: "", setup: "" };
let server: ReturnType<typeof spawn> | undefined;
let data = "";

test.beforeAll(async () => {
  data = mkdtempSync(path.join(tmpdir(), "portico-forms-"));
  const started = spawn(
    process.env.PORTICO_BIN!,
    [
      "--data-dir", data, "--log-level", "warn", "serve", "--listen", "127.0.0.1:0",
      "--site-root", process.env.PORTICO_SITE_ROOT ?? path.resolve(__dirname, "..", "..", "target", "site"),
      "--smtp-host", "127.0.0.1", "--smtp-port", process.env.PORTICO_SMTP_PORT!, "--smtp-tls", "none",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  server = started;
  const lines = readline.createInterface({ input: started.stdout! });
  const found = await new Promise<{ url: string; setup: string }>((resolve, reject) => {
    let url = "";
    const timer = setTimeout(() => reject(new Error("portico did not start within 30 s")), 30_000);
    started.on("exit", (code) => reject(new Error(`portico exited with ${code}`)));
    lines.on("line", (line) => {
      const running = line.match(/^Portico is running at (\S+)/);
      if (running) url = running[1];
      const setup = line.match(/(http\S+\/setup\?ticket=\S+)/);
      if (setup && url) {
        clearTimeout(timer);
        resolve({ url, setup: setup[1] });
      }
    });
  });
  portico.url = found.url;
  portico.setup = found.setup;
});

test.afterAll(async () => {
  server?.kill("SIGTERM");
  if (data) rmSync(data, { recursive: true, force: true });
});

/** Opens a page and waits until the WebAssembly has hydrated it. */
async function open(page: Page, where: string) {
  await page.goto(where.startsWith("http") ? where : `${portico.url}${where}`);
  await page.locator("main[data-hydrated]").waitFor();
}

/** The address bar says nothing of an error (Leptos' `__err`/`__path`, or any `err`). */
function expectCleanAddress(page: Page) {
  expect(page.url()).not.toMatch(/__err|__path|err=/);
}

async function signIn(page: Page, email: string) {
  await open(page, "/signin");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/(admin\/users)?$/);
}

/** A browser of its own with JavaScript switched off, signed in as `email`. */
async function withoutJavaScript(browser: Browser, email: string) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${portico.url}/signin`);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/(admin\/users)?$/);
  return { page, close: () => context.close() };
}

/** WCAG's contrast ratio of two `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (colour: string) => {
    const [r, g, bl] = colour.match(/\d+(\.\d+)?/g)!.slice(0, 3).map((c) => {
      const s = Number(c) / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test.describe.serial("Forms", () => {
  test("setup opens in its first field; a refused setup keeps what was typed but the password, and focuses the error", async ({ page }) => {
    await open(page, portico.setup);
    const name = page.getByLabel("Name", { exact: true });
    await expect(name).toBeFocused();

    // The focus ring is visible: at least 3:1 against the card it sits on.
    const ring = await name.evaluate((input) => {
      const style = getComputedStyle(input);
      const card = getComputedStyle(input.closest(".card")!);
      return { color: style.outlineColor, width: style.outlineWidth, style: style.outlineStyle, behind: card.backgroundColor };
    });
    expect(ring.style).toBe("solid");
    expect(parseFloat(ring.width)).toBeGreaterThanOrEqual(2);
    expect(contrast(ring.color, ring.behind)).toBeGreaterThanOrEqual(3);

    await name.fill("Contoso");
    await page.getByLabel("Primary domain").fill("contoso.example");
    await page.getByLabel("Your name").fill("Ada Admin");
    await page.getByLabel("Email address").fill("ada@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Create organization" }).click();

    const error = page.getByRole("alert").filter({ hasText: "Please correct the fields marked below." });
    await expect(error).toBeFocused();
    await expect(page.getByText("Use at least 8 characters.")).toBeVisible();
    await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Contoso");
    await expect(page.getByLabel("Primary domain")).toHaveValue("contoso.example");
    await expect(page.getByLabel("Your name")).toHaveValue("Ada Admin");
    await expect(page.getByLabel("Email address")).toHaveValue("ada@contoso.example");
    await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
    expect(page.url()).toBe(portico.setup);

    // Refused twice: the address is still the link, with nothing piled onto it.
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Create organization" }).click();
    await expect(error).toBeFocused();
    expect(page.url()).toBe(portico.setup);

    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create organization" }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
  });

  test("each sign-in step opens with the focus in its first field", async ({ page }) => {
    await open(page, "/signin");
    await expect(page.getByLabel("Email address")).toBeFocused();
    await page.getByLabel("Email address").fill("ada@contoso.example");
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page.getByLabel("Password", { exact: true })).toBeFocused();

    // A wrong password: the error has the focus, and the address stays clean.
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("alert")).toBeFocused();
    await expect(page.getByRole("alert")).toHaveText("The email address or password is not right.");
    expectCleanAddress(page);

    // The code steps: the address, then the code.
    await open(page, "/signin/code");
    await expect(page.getByLabel("Email address")).toBeFocused();
    await page.getByLabel("Email address").fill("nobody@partner.example");
    await page.getByRole("button", { name: "Send me a code" }).click();
    await expect(page.getByText("a code is on its way")).toBeVisible();
    await expect(page.getByLabel("Code")).toBeFocused();
  });

  test("a refused member keeps their name and address, not the password", async ({ page }) => {
    await signIn(page, "ada@contoso.example");
    await open(page, "/admin/users");
    await page.getByLabel("Display name").fill("Mia Member");
    await page.getByLabel("Email address").fill("mia@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Create member" }).click();

    await expect(page.getByRole("alert").filter({ hasText: "Please correct the fields marked below." })).toBeFocused();
    await expect(page.getByLabel("Display name")).toHaveValue("Mia Member");
    await expect(page.getByLabel("Email address")).toHaveValue("mia@contoso.example");
    await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
    await expect(page).toHaveURL(`${portico.url}/admin/users`);

    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create member" }).click();
    await expect(page.getByRole("table").getByRole("link", { name: "Mia Member" })).toBeVisible();
  });

  test("a refused invitation keeps every field, the personal message too, and focuses the error", async ({ page }) => {
    await signIn(page, "ada@contoso.example");
    await open(page, "/admin/invitations");
    const message = "Welcome aboard, Ann: the kick-off is on Monday at 10.";
    await page.getByLabel("Email address").fill("ann@partner.example");
    await page.getByLabel("Display name").fill("Ann Partner");
    await page.getByLabel("Personal message").fill(message);
    await page.getByLabel("Guest access ends after (days)").fill("soon");
    await page.getByLabel("Send the invitation by mail").uncheck();

    for (const attempt of [1, 2]) {
      await page.getByRole("button", { name: "Invite", exact: true }).click();
      await expect(page.getByRole("alert").filter({ hasText: "Please correct the fields marked below." }), `attempt ${attempt}`).toBeFocused();
      await expect(page).toHaveURL(`${portico.url}/admin/invitations`);
      await expect(page.getByLabel("Email address")).toHaveValue("ann@partner.example");
      await expect(page.getByLabel("Display name")).toHaveValue("Ann Partner");
      await expect(page.getByLabel("Personal message")).toHaveValue(message);
      await expect(page.getByLabel("Guest access ends after (days)")).toHaveValue("soon");
      await expect(page.getByLabel("Guest access ends after (days)")).toHaveAttribute("aria-invalid", "true");
      await expect(page.getByLabel("Send the invitation by mail")).not.toBeChecked();
    }
    // Nobody was invited.
    await expect(page.getByText("Nobody has been invited yet.")).toBeVisible();

    await page.getByLabel("Guest access ends after (days)").fill("");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(page.getByLabel("Invitation link")).toHaveValue(/\/redeem\?ticket=/);
    await expect(page.getByLabel("Display name")).toHaveValue("");
    await expect(page.getByLabel("Send the invitation by mail")).toBeChecked();
  });

  test("revoking an invitation asks first and says what will happen", async ({ page }) => {
    await signIn(page, "ada@contoso.example");
    await open(page, "/admin/invitations");
    const revoke = page.getByRole("button", { name: "Revoke the invitation of ann@partner.example", exact: true });
    const why = page.getByText("The link sent to ann@partner.example stops working");
    await expect(revoke).toBeHidden();
    await expect(why).toBeHidden();
    await page.locator("summary", { hasText: "Revoke the invitation of ann@partner.example" }).click();
    await expect(why).toBeVisible();
    await revoke.click();
    await expect(page.getByRole("cell", { name: "Revoked" })).toBeVisible();

    // Ann never accepted: her page offers no "Reset redemption".
    await page.getByRole("link", { name: "Ann Partner" }).click();
    await expect(page.getByRole("heading", { name: "Guest", exact: true })).toBeVisible();
    await expect(page.getByText("Reset redemption")).toHaveCount(0);
  });

  test("disabling sign-in asks first, without JavaScript too", async ({ browser }) => {
    const { page, close } = await withoutJavaScript(browser, "ada@contoso.example");
    await page.goto(`${portico.url}/admin/users`);
    await page.getByRole("table").getByRole("link", { name: "Mia Member" }).click();
    const disable = page.getByRole("button", { name: "Disable sign-in", exact: true });
    await expect(disable).toBeHidden();
    await page.locator("summary", { hasText: "Disable sign-in" }).click();
    await expect(page.getByText("Mia Member is signed out everywhere at once")).toBeVisible();
    await disable.click();
    await expect(page.getByText("This user cannot sign in.")).toBeVisible();
    expectCleanAddress(page);
    await close();
  });
});
