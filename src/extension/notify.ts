import * as vscode from 'vscode';

/**
 * The only way the extension shows the user a message. Each message also goes to the log
 * channel, so what a user was told can be found later, and so the tests can check every
 * message the extension ever showed (the token must never be in one) by reading the log files.
 */
export class Notifier {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  error<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
    this.log.error(`[notification] ${message}`);
    return vscode.window.showErrorMessage(message, ...items);
  }

  warn<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
    this.log.warn(`[notification] ${message}`);
    return vscode.window.showWarningMessage(message, ...items);
  }

  /** A modal question (blocks the window until answered). */
  confirm<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
    this.log.info(`[question] ${message}`);
    return vscode.window.showWarningMessage(message, { modal: true }, ...items);
  }

  info<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
    this.log.info(`[notification] ${message}`);
    return vscode.window.showInformationMessage(message, ...items);
  }
}
