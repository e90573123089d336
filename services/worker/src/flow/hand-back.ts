/**
 * Thrown to give a job back to the queue WITHOUT using an attempt (shutdown, provider refusing our
 * token, budget exhausted). Its request id stays on the record, so whoever takes it next resumes
 * the same request.
 */
export class HandBack extends Error {
  readonly delayMs: number;
  constructor(reason: string, delayMs = 100) {
    super(reason);
    this.name = "HandBack";
    this.delayMs = delayMs;
  }
}

/** The job's cost does not fit a budget: it waits (status `waiting_budget`) and is looked at again later. */
export class BudgetWait extends HandBack {
  constructor(reason: string, delayMs: number) {
    super(reason, delayMs);
    this.name = "BudgetWait";
  }
}
