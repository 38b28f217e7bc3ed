/** The shipped locale closest to `wanted` ("de-AT" gets "de"), else English. */
export function supportedLocale(wanted: string | null | undefined): string;
/**
 * A translator for `locale` (a BCP 47 tag; its language picks the bundle, the whole tag
 * formats numbers and times), with `overrides` over the bundle.
 * @param {string} locale @param {Messages} [overrides]
 */
export function translator(locale: string, overrides?: Messages): {
    (key: string, params?: Record<string, string | number>): string;
    locale: string;
};
/** The bundles shipped, by language. */
export const BUNDLES: Record<string, Messages>;
export type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;
export type Messages = Record<string, Message>;
export type Translate = ReturnType<typeof translator>;
