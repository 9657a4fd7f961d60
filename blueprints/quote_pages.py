"""What the quote pages of both faces do alike: show a quote, and answer a move on it.

A quote page is the shared live region (fragments/quotes.py) beside the face's own
actions panel, which holds one person's forms. Each face gives its actions context; this
module renders the two together, for a page, an htmx request or the panel's re-fetch.
"""

from collections.abc import Callable

from flask import flash, redirect, request, url_for
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import is_htmx, render, unchanged
from blueprints.documents import pdf_answer, quote_document
from blueprints.fragments.conversations import panel_context
from blueprints.fragments.quotes import QUOTE, quote_context
from core import attachments, custom_parts, quotes


class QuotePages:
    """The page, the answers and the moves of one face's quotes.

    `actions(quote, form=None, notice="", error="")` is the face's actions context; the
    form is the one that came back with mistakes, if any.
    """

    def __init__(self, face: str, actions: Callable[..., dict]):
        self.face = face
        self.actions = actions
        self.page = f"{face}/quotes/show.html"
        self.panel = f"{face}/quotes/_actions.html"

    def load(self, quote_id: int):
        """A quote this person may see; any other is a 404."""
        return quotes.load(current_user, quote_id)

    def show(self, quote_id: int):
        """The quote page; for htmx (the panel re-fetching after a live signal) the panel
        alone, or 204 when the round it was drawn for (`shown`) is still the latest."""
        found = self.load(quote_id)
        actions = self.actions(found)
        if is_htmx() and request.args.get("shown") == str(actions["seen"]):
            return unchanged()
        context = quote_context(found, current_user) | actions
        if not is_htmx():  # the whole page: with its conversation, now read
            context |= panel_context(found, current_user)
        return render(self.page, self.panel, **context)

    def pdf(self, quote_id: int):
        """The quote as a PDF, from the context of its page's live region."""
        return pdf_answer(quote_document(quote_context(self.load(quote_id), current_user)))

    def drawing(self, quote_id: int, attachment_id: int):
        """A custom part's drawing on a quote this person may see, as a download; a quote
        out of their scope, or a file not on its lines, is a 404."""
        return attachments.download_response(
            custom_parts.drawing_of(self.load(quote_id), attachment_id)
        )

    def answer(self, quote_id: int, *, notice: str = "", error: str = "", form=None):
        """After a move: htmx gets the panel and (out of band) the region; a plain form a
        page. A refusal answers 422 with the reason and the quote as it is now, so nothing
        is acted on blindly; a form with mistakes keeps what was typed."""
        quote = self.load(quote_id)
        if is_htmx() or form is not None:
            region = quote_context(quote, current_user)
            actions = self.actions(quote, form=form, notice=notice, error=error)
            return render(
                self.page,
                self.panel,
                code=422 if error or form is not None else 200,
                oob=[(QUOTE, region)],
                **(region | actions),
            )
        if error or notice:  # a move whose outcome the page itself says flashes nothing
            flash(str(error or notice), "error" if error else "info")  # lazy messages too
        return redirect(url_for(f"{self.face}.quote", quote_id=quote_id))

    def run(self, quote_id: int, change: Callable, notice):
        """One move, replayed whole on a deadlock; a refusal is undone and said.

        `notice` may be a function of what the move returned.
        """
        move = attempt(change, replay=True)
        if move.refused:
            return self.answer(quote_id, error=move.message)
        return self.answer(quote_id, notice=notice(move.value) if callable(notice) else notice)
