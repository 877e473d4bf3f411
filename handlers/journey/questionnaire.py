"""Answer and back buttons: record the answer, move on, and deliver the result at the end."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers.core import render
from handlers.core.callbacks import Action, parse
from handlers.core.callbacks import build as cb
from handlers.core.context import DTeamContext, Services
from handlers.core.flow import (
    language_of,
    note_duplicate,
    remember_message,
    show_current,
    write_tx,
)
from handlers.core.moderation import title_of
from handlers.core.press import button
from handlers.core.sending import drop_keyboard, edit_or_send, send, send_photo
from storage.models import Participant, Run, Workshop
from storage.participants import get_participant
from storage.runs import IN_PROGRESS, get_run, move_to
from storage.taps import Written, read_tap, write_answer
from typology.charts import affinity_chart
from typology.questionnaire import SKIP
from typology.scoring import AnswerError, Result

log = logging.getLogger(__name__)


@dataclass
class AnswerOutcome:
    """What a button press did, decided inside the transaction and shown after it."""

    run: Run | None = None
    toast: str | None = None
    result: Result | None = None


async def on_answer(update: Update, ctx: DTeamContext) -> None:
    """Stores the pressed answer and shows the next question, or the result after the last."""
    if (pressed := await button(update, answer=False)) is None:
        return
    (query, user, message), services = pressed, ctx.services
    data = parse(query.data)
    run_id, item_id, option_id = data.int_arg(0), data.args[1], data.args[2]
    t = services.texts
    # Read and decide outside the write transaction: on SQLite writers queue one at a time,
    # so the write below is only the statements that must be atomic. Each is one hop.
    tap = await services.db.read_sync(
        partial(
            read_tap,
            run_id=run_id,
            telegram_id=user.id,
            pressed_message_id=message.message_id,
        )
    )
    found = tap.found
    answers = found.answers if found else {}
    lang = language_of(services, tap.participant, user)
    out = AnswerOutcome()
    if found is None:
        out.toast = t.get(lang, "question.invalid")
    elif tap.unseen is not None:
        # Finished, but the bot died before showing it: show it now. This press is not
        # stored (the run was over), so the toast says so rather than passing for saved.
        out.run, out.result = found.run, tap.unseen
        out.toast = t.get(lang, "question.run_over")
    elif found.run.status != IN_PROGRESS:
        out.toast = t.get(lang, "question.run_over")
    elif item_id != found.run.current_item or not services.questionnaire_for(
        found.run.questionnaire_version
    ).accepts(item_id, option_id):
        out.run, out.toast = found.run, t.get(lang, "question.stale")
    else:
        out.run = found.run
        await _record(ctx, update, out, answers | {item_id: option_id}, item_id, option_id)
    await query.answer(out.toast)
    chat_id, message_id = message.chat.id, message.message_id
    if out.run is None:
        return  # forged, foreign or finished: the toast said so; the message stays as it is
    if out.result is not None:
        await deliver_result(ctx, chat_id, message_id, out.result, lang, out.run)
        return
    if out.run.current_item is None:
        return
    if out.run.message_id not in (None, message_id):
        await drop_keyboard(ctx, chat_id, message_id)  # a stale keyboard from an older message
    target = out.run.message_id or message_id
    known = answers | ({item_id: option_id} if out.toast is None else {})
    await show_current(
        ctx, chat_id=chat_id, run=out.run, lang=lang, message_id=target, answers=known
    )


async def _record(
    ctx: DTeamContext,
    update: Update,
    out: AnswerOutcome,
    answers: dict[str, str],
    item_id: str,
    option_id: str,
) -> None:
    """Writes the answer and moves the run on (or finishes it), atomically and only once."""
    services, run = ctx.services, out.run
    assert run is not None
    assert run.id is not None
    # A run is finished and scored on the questionnaire version it was started on.
    q = services.questionnaire_for(run.questionnaire_version)
    nxt = q.next_item(item_id, answers)
    result: Result | None = None
    if nxt is None:
        scored = {k: v for k, v in answers.items() if v != SKIP}
        try:
            model = services.model_for(run.questionnaire_version)
            result = model.classify(q, scored)
        except AnswerError as exc:
            log.error("run %s cannot be classified (%s); asking again", run.id, exc)
            nxt = next(i.id for i in q.items if i.id not in answers)
    written = await services.db.write_sync(
        partial(
            write_answer,
            update_id=update.update_id,
            run_id=run.id,
            item_id=item_id,
            option_id=option_id,
            next_item=nxt,
            result=result,
            workshop_id=run.workshop_id,
        )
    )
    if written is not Written.DONE:
        if written is Written.DUPLICATE:
            note_duplicate(update)
        # Processed before, or a concurrent press of the same question got there first.
        out.toast = services.texts.get(run.language, "question.stale")
        return
    run.current_item = nxt if result is None else None
    out.result = result


async def deliver_result(
    ctx: DTeamContext, chat_id: int, message_id: int | None, result: Result, lang: str, run: Run
) -> None:
    """Shows the result in the question's place (or anew), then the chart and the profile card.

    Three messages, no more: Telegram tolerates a burst of about three per chat.
    """
    services, t = ctx.services, ctx.services.texts
    text = t.get(lang, "result.thanks") + "\n\n" + render.result_text(services, result, lang)
    where = await _counted_for(services, run, lang)
    await edit_or_send(ctx, chat_id, message_id, f"{text}\n\n{where}" if where else text)
    # Rendering takes tens of milliseconds: off the event loop, so other users' taps go on.
    png = await asyncio.to_thread(
        affinity_chart, result.affinities, lang=lang, title=t.get(lang, "result.chart_title")
    )
    name = render.type_name(services, result.main_type, lang)
    try:
        chart = await send_photo(ctx, chat_id, png, t.get(lang, "result.caption", name=name))
    except TelegramError as exc:
        # The result is stored and shown; a lost chart must not also cost the profile card.
        log.warning("result chart for %s not sent (%s); sending the card anyway", chat_id, exc)
    else:
        if chart is None:  # blocked
            return
    profile = services.profiles[lang][result.main_type]
    card = await send(
        ctx,
        chat_id,
        render.profile_card(services, profile, lang),
        render.keyboard(
            [(t.get(lang, "card.more_button"), cb(Action.CARD_MORE, result.main_type.value))],
            [(t.get(lang, "result.again_button"), cb(Action.RESTART))],
            [(t.get(lang, "moderation.teams.share_button"), cb(Action.SHARE_NAME, "on"))],
        ),
    )
    if card is not None:  # shown: a repeated tap on the last question must not show it again
        await remember_message(services, run, card.message_id, result=True)


async def _counted_for(services: Services, run: Run, lang: str) -> str | None:
    """Says which workshop the finished run counts for, or that its workshop closed meanwhile."""
    assert run.id is not None
    async with services.db.read() as session:
        counted = await get_run(session, run_id=run.id)
        participant = await session.get(Participant, run.participant_id)
        workshop_id = counted.workshop_id if counted is not None else None
        if workshop_id is None and participant is not None:
            workshop_id = participant.joined_workshop_id
        workshop = await session.get(Workshop, workshop_id) if workshop_id else None
    if workshop is None:
        return None
    title = title_of(services, workshop, lang)
    if counted is not None and counted.workshop_id == workshop.id:
        return services.texts.get(lang, "result.counts_for", title=title)
    return services.texts.get(lang, "result.not_counted", title=title)


async def on_back(update: Update, ctx: DTeamContext) -> None:
    """Goes back to the question before the one shown, keeping its answer ticked."""
    if (pressed := await button(update, answer=False)) is None:
        return
    (query, user, message), services = pressed, ctx.services
    data = parse(query.data)
    run_id, item_id = data.int_arg(0), data.args[1]
    async with write_tx(ctx, update) as (session, is_new):
        participant = await get_participant(session, telegram_id=user.id)
        run = await get_run(session, run_id=run_id, lock=True)
        lang = language_of(services, participant, user)
        version = run.questionnaire_version if run is not None else None
        ids = [it.id for it in services.questionnaire_for(version).items]
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
        await drop_keyboard(ctx, message.chat.id, message.message_id)
        return
    await show_current(
        ctx,
        chat_id=message.chat.id,
        run=run,
        lang=lang,
        message_id=run.message_id or message.message_id,
    )


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    return [
        CallbackQueryHandler(on_answer, pattern=rf"^{Action.ANSWER}:"),
        CallbackQueryHandler(on_back, pattern=rf"^{Action.BACK}:"),
    ]
