import type { Phrases } from "./types.js";

/**
 * Cantonese (yue-CN, Polly's only Cantonese voice). Written as standard Chinese in
 * traditional characters, as Cantonese announcements are written and read aloud; the
 * voice reads either script.
 */
export const yue: Phrases = {
  tag: "yue-CN",
  greeting: (org) => `您好。這裏是${org}，為您提供驗證碼。`,
  pressToHear: (d) => `如需收聽驗證碼，請按${d}。`,
  codeIs: "您的驗證碼是：",
  again: "再講一次：",
  pressToRepeat: "如需再聽一次，請按任何鍵。",
  goodbye: "再見。",
  noKey: "沒有收到指定的按鍵。再見。",
  unavailable: "抱歉，此驗證碼已失效。請重新索取。再見。",
  machine: (org) => `這是來自${org}的驗證電話。此留言沒有驗證碼。再見。`,
};
