// The emoji picker's choice: common faces, hands, hearts and things, as characters (the
// system's emoji font draws them; nothing is downloaded).
export const EMOJI = Array.from(
  "😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛😝😜🤪🤨🧐🤓😎🥳😏😒😞😔😟😕🙁😣😖😫😩🥺😢😭😤😠😡🤯😳🥵🥶😱😨😰😥😓🤗🤔🤭🤫🤥😶😐😑😬🙄😯😦😧😮😲🥱😴🤤😪😵🤐🥴🤢🤮🤧😷🤒🤕" +
  "👍👎👌✌🤞🤟🤘👈👉👆👇✋🤚🖐🖖👋🤙💪🙏👏🙌🤝" +
  "❤🧡💛💚💙💜🖤🤍💔💯✨🔥⭐🌟🎉🎊🎁🎂☕🍵🍺🍕🍜🍚🍎⚽🏀📚✏📎📌✅❌❓❗💡⏰📅🚀🌈☀🌙⛄🌸🐱🐶🐼"
).filter((c) => c.trim());
