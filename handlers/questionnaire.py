"""Answer and back buttons: record the answer, move on, and deliver the result at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler
from typology.charts import affinity_chart

from handlers import render
from handlers.callbacks import Action, parse
from handlers.callbacks import build as cb
from handlers.context import DTeamContext, Services
from handlers.flow import language_of, show_current, write_tx
from handlers.sending import drop_keyboard, edit_or_send, send, send_photo
from storage.models import Run
from storage.participants import get_participant
from storage.runs import IN_PROGRESS, finish_run, get_answers, get_run, move_to, record_answer
from storage.workshops import OPEN, get_workshop, mark_live_dirty
from typology.scoring import AnswerError, Result

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a button press did, decided inside the transaction and shown after it."""

    run: Run | None = None
    toast: str | None = None
    result: Result | None = None
    left_workshop: bool = False


def _next_item(services: Services, item_id: str, answers: dict[str, str]) -> str | None:
    """Returns the question after item_id, or the first unanswered one, or None when done."""
    ids = [it.id for it in services.questionnaire.items]
    after = ids[ids.index(item_id) + 1 :]
    if after:
        return after[0]
    missing = [i for i in ids if i not in answers]
    return missing[0] if missing else None


def _valid_option(services: Services, item_id: str, option_id: str) -> bool:
    try:
        item = services.questionnaire.item(item_id)
    except KeyError:
        return False
    return option_id in {o.id for o in item.options} or (
        item.kind == "context" and option_id == render.SKIP
    )


async def on_answer(update: Update, ctx: DTeamContext) -> None:
    """Stores the pressed answer and shows the next question, or the result after the last."""
    query, user, services = update.callback_query, update.effective_user, ctx.services
    if query is None or user is None or query.message is None:
        return
    data = parse(query.data)
    run_id, item_id, option_id = data.int_arg(0), data.args[1], data.args[2]
    out = Outcome()
    lang = services.default_language
    async with write_tx(ctx, update) as (session, is_new):
        participant = await get_participant(session, telegram_id=user.id)
        run = await get_run(session, run_id=run_id, lock=True)
        lang = language_of(services, participant, user)
        t = services.texts
        if participant is None or run is None or run.participant_id != participant.id:
            out.toast = t.get(lang, "question.invalid")
        elif run.status != IN_PROGRESS:
            out.toast = t.get(lang, "question.run_over")
        elif item_id != run.current_item or not _valid_option(services, item_id, option_id):
            out.run, out.toast = run, t.get(lang, "question.stale")
        else:
            out.run = run
            if is_new:
                out.result, out.left_workshop = await _record(
                    ctx, session, run, item_id, option_id
                )
    await query.answer(out.toast)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if out.run is None:
        return  # forged, foreign or finished: the toast said so; the message stays as it is
    if out.left_workshop:
        await send(ctx, chat_id, services.texts.get(lang, "question.workshop_closed"))
    if out.result is not None:
        await _deliver_result(ctx, chat_id, message_id, out.result, lang)
        return
    if out.run.current_item is None:
        return
    if out.run.message_id not in (None, message_id):
        await drop_keyboard(ctx, chat_id, message_id)  # a stale keyboard from an older message
    await show_current(
        ctx, chat_id=chat_id, run=out.run, lang=lang, message_id=out.run.message_id or message_id
    )


async def _record(
    ctx: DTeamContext, session: object, run: Run, item_id: str, option_id: str
) -> tuple[Result | None, bool]:
    """Records an answer and advances; classifies and finishes the run after the last one."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    services = ctx.services
    left = False
    if run.workshop_id is not None:
        workshop = await get_workshop(session, workshop_id=run.workshop_id)
        if workshop is None or workshop.status != OPEN:
            run.workshop_id, left = None, True  # late arrival: keep the answers, count them solo
    await record_answer(session, run_id=run.id, item_id=item_id, option_id=option_id)  # type: ignore[arg-type]
    answers = await get_answers(session, run_id=run.id)  # type: ignore[arg-type]
    nxt = _next_item(services, item_id, answers)
    if nxt is not None:
        await move_to(session, run=run, item_id=nxt)
        return None, left
    scored = {k: v for k, v in answers.items() if v != render.SKIP}
    try:
        result = services.model.classify(services.questionnaire, scored)
    except AnswerError as exc:
        log.error("run %s cannot be classified (%s); asking again", run.id, exc)
        missing = [it.id for it in services.questionnaire.items if it.id not in answers]
        await move_to(
            session, run=run, item_id=missing[0] if missing else services.questionnaire.items[0].id
        )
        return None, left
    await finish_run(session, run=run, result=result)
    if run.workshop_id is not None:
        await mark_live_dirty(session, workshop_id=run.workshop_id)
    return result, left


async def _deliver_result(
    ctx: DTeamContext, chat_id: int, message_id: int, result: Result, lang: str
) -> None:
    """Sends the result: a thank-you, the affinity chart, the result text and the profile card."""
    services, t = ctx.services, ctx.services.texts
    await edit_or_send(ctx, chat_id, message_id, t.get(lang, "result.thanks"))
    names = {k: render.type_name(services, k, lang) for k in result.affinities}
    png = affinity_chart(result.affinities, lang=lang, title=t.get(lang, "result.chart_title"))
    caption = t.get(lang, "result.caption", name=names[result.main_type])
    if await send_photo(ctx, chat_id, png, caption) is None:
        return
    await send(ctx, chat_id, render.result_text(services, result, lang))
    profile = services.profiles[lang][result.main_type]
    await send(
        ctx,
        chat_id,
        render.profile_card(services, profile, lang),
        render.keyboard(
            [(t.get(lang, "result.again_button"), cb(Action.RESTART, 0))],
            [(t.get(lang, "moderation.teams.share_button"), cb(Action.SHARE_NAME, "on"))],
        ),
    )


async def on_back(update: Update, ctx: DTeamContext) -> None:
    """Goes back to the question before the one shown, keeping its answer ticked."""
    query, user, services = update.callback_query, update.effective_user, ctx.services
    if query is None or user is None or query.message is None:
        return
    data = parse(query.data)
    run_id, item_id = data.int_arg(0), data.args[1]
    ids = [it.id for it in services.questionnaire.items]
    async with write_tx(ctx, update) as (session, is_new):
        participant = await get_participant(session, telegram_id=user.id)
        run = await get_run(session, run_id=run_id, lock=True)
        lang = language_of(services, participant, user)
        valid = (
            participant is not None
            and run is not None
            and run.participant_id == participant.id
            and run.status == IN_PROGRESS
            and item_id in ids
        )
        if (
            valid
            and is_new
            and run is not None
            and item_id == run.current_item
            and ids.index(item_id) > 0
        ):
            await move_to(session, run=run, item_id=ids[ids.index(item_id) - 1])
    await query.answer(None if valid else services.texts.get(lang, "question.invalid"))
    if not valid or run is None:
        await drop_keyboard(ctx, query.message.chat.id, query.message.message_id)
        return
    await show_current(
        ctx,
        chat_id=query.message.chat.id,
        run=run,
        lang=lang,
        message_id=run.message_id or query.message.message_id,
    )


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    return [
        CallbackQueryHandler(on_answer, pattern=rf"^{Action.ANSWER}:"),
        CallbackQueryHandler(on_back, pattern=rf"^{Action.BACK}:"),
    ]
