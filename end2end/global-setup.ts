// Starts a real SMTP server (aiosmtpd) and the real portico binary on free ports, with an
// empty database in a temporary folder, and hands their addresses and the first-run setup
// link to the tests.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { freePort, waitForPort } from "./net";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

const root = path.resolve(__dirname, "..");

function binary(): string {
  if (process.env.PORTICO_BIN) return process.env.PORTICO_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
  return path.join(target, "debug", "portico");
}

export default async function globalSetup() {
  const data = mkdtempSync(path.join(tmpdir(), "portico-e2e-"));
  const siteRoot = process.env.PORTICO_SITE_ROOT ?? path.join(root, "target", "site");

  // A real SMTP server (Python's aiosmtpd) that files every mail it accepts in a Maildir.
  const maildir = path.join(data, "maildir");
  for (const folder of ["tmp", "new", "cur"]) mkdirSync(path.join(maildir, folder), { recursive: true });
  const smtpPort = await freePort();
  const smtp = spawn(
    "python3",
    ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${smtpPort}`, "-c", "aiosmtpd.handlers.Mailbox", maildir],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await waitForPort(smtpPort);

  const server = spawn(
    binary(),
    [
      "--data-dir", data, "--log-level", "warn", "serve", "--listen", "127.0.0.1:0", "--site-root", siteRoot,
      "--smtp-host", "127.0.0.1", "--smtp-port", String(smtpPort), "--smtp-tls", "none", "--mail-retry-seconds", "1",
      // The partner's identity provider in the federation test runs on this machine.
      "--allow-loopback-providers",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = readline.createInterface({ input: server.stdout! });
  const found = await new Promise<{ url: string; setup: string }>((resolve, reject) => {
    let url = "";
    const timer = setTimeout(() => reject(new Error("portico did not start within 30 s")), 30_000);
    server.on("exit", (code) => reject(new Error(`portico exited with ${code}`)));
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
  process.env.PORTICO_URL = found.url;
  process.env.PORTICO_DATA_DIR = data;
  process.env.PORTICO_BIN = binary();
  process.env.PORTICO_SETUP_LINK = found.setup;
  process.env.PORTICO_MAILDIR = maildir;
  process.env.PORTICO_SMTP_PORT = String(smtpPort);
  return async () => {
    server.kill("SIGTERM");
    smtp.kill("SIGTERM");
    rmSync(data, { recursive: true, force: true });
  };
}
