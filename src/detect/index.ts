/** PHI detection: the detector, the scrubber and predicate, the scrubbing logger, `ward scan`'s line helpers. */
export { type DetectOptions, detect } from './detect.js';
export { type LineFinding, redactLine, scanLine } from './lines.js';
export { createLogger, SENSITIVE_KEYS, type WardLoggerOptions } from './logger.js';
export { isPhiFree, phiInName, scrub } from './scrub.js';
export { type Finding, PHI_TYPES, type PhiType, placeholder } from './types.js';
