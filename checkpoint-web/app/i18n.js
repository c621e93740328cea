// The app's own words come from the one message catalogue, shared/messages.toml (section
// [app]), which the desktop verifier reads too: a translator edits that file alone. They reach
// the page through the WebAssembly (`app_words`), so they are here once it has loaded. The
// verdicts' words and reasons come from the verifier's rules, in both languages. Chinese first.
export const WORDS = { zh: {}, en: {} };

/** Fills WORDS from `app_words()` (JSON: `{zh: {key: text}, en: {…}}`). */
export function loadWords(json) {
  const words = JSON.parse(json);
  Object.assign(WORDS.zh, words.zh);
  Object.assign(WORDS.en, words.en);
}

/** A word in both languages at once, for an error shown before the language is known. */
export const bilingual = (key) => `${WORDS.zh[key] ?? key} (${WORDS.en[key] ?? key})`;
