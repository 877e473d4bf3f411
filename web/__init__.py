"""The bot's web pages (the questionnaire as a Telegram Mini App, the presenter page)."""
