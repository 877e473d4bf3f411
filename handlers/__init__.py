"""Telegram-facing code, one package per feature, and the plumbing they share.

- `handlers.core`: the typed context and services, callback data, texts, sending, the button
  preamble, the transaction helper, moderator checks, errors.
- `handlers.journey`: a participant's way through: /start, consent, questions, result, card.
- `handlers.websession`: the moderated workshop in a group: /session, live message, /summary,
  /teams, /status, /export.
- `handlers.timeline`: scheduled messages: /schedule, reminders, the timed close, retention.

Feature packages import `handlers.core`, never each other, but for the timeline, which posts the
workshop's summary at the automatic close. Each package's `handlers()` returns its handlers;
`bot/app.py` keeps the one ordered list.
"""
