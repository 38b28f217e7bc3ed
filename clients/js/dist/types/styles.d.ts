/** @type {string} */
export const STYLES: string;
