import type { Phrases } from "./types.js";

export const ja: Phrases = {
  tag: "ja-JP",
  greeting: (org) => `こんにちは。${org}より、確認コードのお知らせです。`,
  pressToHear: (d) => `コードを聞くには、${d}を押してください。`,
  codeIs: "コードは、",
  again: "もう一度申し上げます。",
  pressToRepeat: "もう一度聞くには、いずれかのボタンを押してください。",
  goodbye: "失礼いたします。",
  noKey: "指定のボタンが押されませんでした。失礼いたします。",
  unavailable: "申し訳ありません。このコードは使用できなくなりました。新しいコードをリクエストしてください。失礼いたします。",
  machine: (org) => `こちらは${org}からの確認のお電話でした。このメッセージにコードは含まれていません。失礼いたします。`,
};
