/** The template styles, in build order. */
import chat from './chat.mjs';
import clinicalNote from './clinical-note.mjs';
import clinicalQuery from './clinical-query.mjs';
import documentForm from './document-form.mjs';
import jsonPayload from './json-payload.mjs';
import letterEmail from './letter-email.mjs';
import logLine from './log-line.mjs';

export const STYLES = [clinicalNote, clinicalQuery, logLine, jsonPayload, letterEmail, chat, documentForm];
