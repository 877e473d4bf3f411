"""The bot's web pages (the questionnaire as a Telegram Mini App), served by its aiohttp server."""
