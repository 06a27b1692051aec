// A person at the Taskcluster UI, in a real browser: Debian's Chromium, headless, driven by
// playwright-core (npm; it downloads no browser). The steps a release engineer takes to fire an
// action from a task group, each a method, each keeping a screenshot when asked:
//
//   const person = await UiPerson.open(rootUrl, { shots: dir });
//   await person.signIn(clientId, accessToken);
//   await person.openTaskGroup(decisionTaskId);
//   const titles = await person.openActionsMenu();        // the SpeedDial, opened by hovering
//   await person.chooseAction('Promote image');           // the dialog: description, YAML form, schema
//   await person.fillForm('script: signingscript\n…');
//   const outcome = await person.submit();                // { taskId } or { error: what the dialog shows }
//   await person.close();
//
// What is read back is what the page shows (text, URL), not the UI's internal state.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/test.sh installs it), or TC_PROMOTE_CHROMIUM. */
export function chromiumPath(): string {
  const given = process.env.TC_PROMOTE_CHROMIUM;
  const candidates = given ? [given] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) throw new Error(`no Chromium at ${candidates.join(' or ')}: bash scripts/test.sh installs Debian's chromium (or set TC_PROMOTE_CHROMIUM)`);
  return found;
}

export interface UiPersonOptions {
  /** Folder for the screenshots (none when absent). */
  shots?: string;
  /** A prefix for this person's screenshot names (e.g. `denied-`). */
  prefix?: string;
  /** An already running browser to open a page in (its own context: its own sign-in). */
  browser?: Browser;
}

export type SubmitOutcome = { taskId: string } | { error: string };

export class UiPerson {
  readonly consoleErrors: string[] = [];
  readonly shotsTaken: string[] = [];
  private step = 0;

  private constructor(
    readonly rootUrl: string,
    readonly page: Page,
    private readonly browser: Browser,
    private readonly ownsBrowser: boolean,
    private readonly options: UiPersonOptions,
  ) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(String(error)));
  }

  /**
   * Launch Chromium. Playwright makes its profile and artifacts folders in the OS temp directory (TMPDIR) and
   * removes them on close; `tmpDir` puts them in a folder the caller removes on every path
   * (the real-services fixture's state folder, which its teardown and its watchdog remove even
   * when vitest is killed). Chromium itself ends when its DevTools pipe closes, that is when
   * this process ends however it ends (checked with SIGKILL).
   */
  static async launch(tmpDir?: string): Promise<Browser> {
    const before = process.env.TMPDIR;
    if (tmpDir !== undefined) {
      mkdirSync(tmpDir, { recursive: true });
      process.env.TMPDIR = tmpDir;
    }
    try {
      return await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    } finally {
      if (tmpDir !== undefined) {
        if (before === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = before;
      }
    }
  }

  static async open(rootUrl: string, options: UiPersonOptions = {}): Promise<UiPerson> {
    const browser = options.browser ?? (await UiPerson.launch());
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    if (options.shots) mkdirSync(options.shots, { recursive: true });
    return new UiPerson(rootUrl, page, browser, options.browser === undefined, options);
  }

  /** A screenshot of the page now, `<NN>-<prefix><name>.png` in the shots folder. */
  async shot(name: string): Promise<string | undefined> {
    if (!this.options.shots) return undefined;
    this.step += 1;
    const file = path.join(this.options.shots, `${String(this.step).padStart(2, '0')}-${this.options.prefix ?? ''}${name}.png`);
    await this.page.screenshot({ path: file });
    this.shotsTaken.push(file);
    return file;
  }

  /** "Sign in" → "Sign in with credentials" → client id and access token → the dialog closes. */
  async signIn(clientId: string, accessToken: string): Promise<void> {
    await this.page.goto(`${this.rootUrl}/`, { waitUntil: 'networkidle' });
    const signIn = this.page.getByRole('button', { name: /sign in/i }).first();
    await signIn.waitFor();
    await this.shot('signed-out');
    await signIn.click();
    const dialog = this.page.locator('[aria-labelledby=credentials-dialog-title]');
    await dialog.locator('input[name=clientId]').fill(clientId);
    await dialog.locator('input[name=accessToken]').fill(accessToken);
    await this.shot('credentials');
    await dialog.locator('button[type=submit]').click();
    await dialog.waitFor({ state: 'detached' });
    await this.page.waitForLoadState('networkidle');
  }

  /** The task group page of a decision task, once its tasks are listed. */
  async openTaskGroup(taskGroupId: string, expectTask: string | RegExp = /Decision Task/): Promise<void> {
    await this.page.goto(`${this.rootUrl}/tasks/groups/${taskGroupId}`, { waitUntil: 'networkidle' });
    await this.page.getByText(expectTask).first().waitFor();
    await this.shot('task-group');
  }

  private get speedDial(): Locator {
    return this.page.locator('.MuiSpeedDial-root').first();
  }

  /** Hover the actions button (a click toggles it shut again) and read the actions' titles. */
  async openActionsMenu(): Promise<string[]> {
    await this.speedDial.locator('.MuiSpeedDial-fab').hover();
    const actions = this.speedDial.locator('.MuiSpeedDialAction-staticTooltip');
    await actions.first().locator('button:not(.MuiSpeedDialAction-fabClosed)').waitFor();
    await this.page.waitForTimeout(400); // the opening animation, for the screenshot
    const titles = (await actions.locator('.MuiSpeedDialAction-staticTooltipLabel').allInnerTexts()).map((t) => t.trim());
    await this.shot('actions-menu');
    return titles;
  }

  private get dialog(): Locator {
    return this.page.getByRole('dialog');
  }

  /** Click an action of the open menu; the dialog with its form (the schema's defaults as YAML) and its schema. */
  async chooseAction(title: string): Promise<{ description: string; form: string; schema: string }> {
    const item = this.speedDial.locator('.MuiSpeedDialAction-staticTooltip', { hasText: title });
    await item.locator('button').click();
    await this.dialog.locator('.CodeMirror').first().waitFor();
    await this.page.waitForTimeout(600); // the dialog's fade-in
    await this.shot('action-dialog');
    const form = await this.dialog.locator('.CodeMirror').first().evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
    return {
      description: await this.dialog.innerText(),
      form,
      schema: await this.dialog.locator('pre, .CodeMirror').last().innerText(),
    };
  }

  /** Replace the form's YAML, typed into the editor as a person types it. */
  async fillForm(yaml: string): Promise<void> {
    const editor = this.dialog.locator('.CodeMirror').first();
    await editor.click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Delete');
    // CodeMirror indents after a colon-less line; plain lines are typed one by one.
    for (const line of yaml.replace(/\n$/, '').split('\n')) {
      await this.page.keyboard.type(line);
      await this.page.keyboard.press('Enter');
      await this.page.keyboard.press('Home');
    }
    await this.shot('form-filled');
  }

  /**
   * The dialog's error panel: DialogAction (ui/src/components/DialogAction) renders the error of
   * its onSubmit (submitTaskAction's throw: the schema's ajv errors, the decision task's
   * in-tree:hook-action: scope; web-server's GraphQL error of triggerHook) as an ErrorPanel in a
   * DialogContentText before the one holding the body, so it is the first of two.
   */
  private get dialogError(): Locator {
    return this.dialog.locator('.MuiDialogContent-root > .MuiDialogContentText-root:first-child:not(:last-child)');
  }

  /** The dialog's confirm button; the new task's page, or the error the dialog shows (the dialog stays open). */
  async submit(confirmText: string): Promise<SubmitOutcome> {
    await this.dialog.getByRole('button', { name: confirmText, exact: true }).click();
    const outcome = await Promise.race([
      this.page.waitForURL(/\/tasks\/(?!groups)[A-Za-z0-9_-]{22}(\/|$|\?)/, { timeout: 45_000 }).then(() => 'navigated' as const),
      this.dialogError.waitFor({ timeout: 45_000 }).then(() => 'refused' as const),
    ]);
    if (outcome === 'refused') {
      await this.page.waitForTimeout(300);
      await this.shot('refused');
      return { error: (await this.dialogError.innerText()).trim() };
    }
    const taskId = /\/tasks\/([A-Za-z0-9_-]{22})/.exec(this.page.url())![1]!;
    await this.page.waitForLoadState('networkidle').catch(() => {});
    await this.page.getByText(taskId).first().waitFor({ timeout: 15_000 }).catch(() => {});
    await this.shot('action-task');
    return { taskId };
  }

  /** Whether the action dialog is still open with its confirm button enabled (a refused submit leaves it so). */
  async dialogStillOpen(confirmText: string): Promise<boolean> {
    const button = this.dialog.getByRole('button', { name: confirmText, exact: true });
    return (await button.count()) === 1 && (await button.isEnabled());
  }

  /** Open a page of the UI (a task, a task group) and keep a screenshot of it once `text` shows. */
  async visit(pathname: string, text: string | RegExp, shotName: string): Promise<void> {
    await this.page.goto(`${this.rootUrl}${pathname}`, { waitUntil: 'networkidle' });
    // A picture for the how-to: kept even when the text is not (yet) shown.
    await this.page.getByText(text).first().waitFor({ timeout: 10_000 }).catch(() => {});
    await this.page.waitForTimeout(300);
    await this.shot(shotName);
  }

  async close(): Promise<void> {
    await this.page.context().close();
    if (this.ownsBrowser) await this.browser.close();
  }
}
