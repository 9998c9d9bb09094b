import type { Phrases } from "./types.js";

/** Mandarin, in simplified characters: cmn-CN is what Polly names it; a request's "zh" or "zh-CN" means it. */
export const zh: Phrases = {
  tag: "cmn-CN",
  greeting: (org) => `您好。这里是${org}，为您提供验证码。`,
  pressToHear: (d) => `如需收听验证码，请按${d}。`,
  codeIs: "您的验证码是：",
  again: "再说一遍：",
  pressToRepeat: "如需再听一遍，请按任意键。",
  goodbye: "再见。",
  noKey: "没有收到指定的按键。再见。",
  unavailable: "抱歉，此验证码已失效。请重新获取。再见。",
  machine: (org) => `这是来自${org}的验证电话。此留言中没有验证码。再见。`,
};
