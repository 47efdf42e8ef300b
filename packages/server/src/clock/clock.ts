/** The time source, injected everywhere (R-OTP-8: no request can move it; tests pass their own). */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
