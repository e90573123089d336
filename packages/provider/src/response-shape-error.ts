/** A 2xx body that is JSON but not the shape we expect (becomes `provider_invalid_response`). */
export class ResponseShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResponseShapeError";
  }
}
