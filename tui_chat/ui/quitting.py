"""Ending the app without losing anything (docs/ARCHITECTURE.md, "Nothing lost"): ctrl+q saves
everything and, for what cannot be written, offers another folder or stdout; a signal or the
terminal going away saves, writes what cannot be saved to a folder of its own and exits with
128 + the signal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui_chat.ui.keeping import reason, suggested_folder
from tui_chat.ui.screens.dialogs import UnsavedDialog
from tui_chat.ui.widgets.prompt import PromptInput

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp


class Quitting:
    """How the app ends (`app.quitting`)."""

    def __init__(self, app: ChatApp) -> None:
        self.app = app
        self.shut = False
        #: Set when the app ends without a person to ask (a signal, the terminal gone): the
        #: lines to print once the terminal is restored, and what to print on stdout.
        self.exit_notes: list[str] = []
        self.print_on_exit = ""
        self.terminal_gone = False

    def quit(self) -> None:
        """Quit, saving everything; what cannot be written is offered to be written
        elsewhere (a folder you name, or stdout once the terminal is restored)."""
        app = self.app
        self.shut_down()
        documents = app.keeping.documents()
        if not documents:
            app.exit()
            return

        def answered(choice: tuple[str, str] | None) -> None:
            how, where = choice or ("back", "")
            if how == "folder":
                try:
                    written = app.keeping.write_elsewhere(Path(where).expanduser())
                except OSError as error:
                    app.say(f"Could not write to {where}: {reason(error)}", severity="error")
                    how = "back"
                else:
                    self.exit_notes.append(
                        f"tui-chat: wrote what could not be saved to {written[0].parent}"
                    )
            elif how == "stdout":
                self.print_on_exit = "".join(f"# {n}\n{t}\n" for n, t in documents.items())
            if how == "back":
                self.shut = app.keeping.stopped = False  # quitting saves again next time
                return
            app.exit()

        dialog = UnsavedDialog(sorted(documents), app.keeping.why(), suggested_folder())
        app.push_screen(dialog, answered)

    def shut_down(self) -> None:
        """Stop every stream (keeping what arrived) and save what the app remembers. Runs on
        ctrl+q, on SIGHUP/SIGTERM or a vanished terminal, and again, harmlessly, when the app
        unmounts however it was closed."""
        app = self.app
        if self.shut:
            return
        self.shut = app.keeping.stopped = True
        app.keeping.stop_retrying()
        for prompt in app.query(PromptInput):
            app.remember_draft(prompt.text)  # else already unmounted: kept as typed
        app.params.save_pending()
        for reply in app.streams.replies():
            app.replying.cancel(reply, "interrupted")
        compare = app.compare_screen
        if compare is not None and compare.sent:
            replies, first = compare.stop("interrupted")
            if first is not None:
                app.conversation.keep_compared(replies, first)
                app.save(app.conversation)
        for conversation in list(app.keeping.unsaved.values()):
            app.save(conversation)  # one last try
        app.state.open_conversation = app.conversation.id
        app.keeping.save_state()

    def emergency_exit(self, code: int, why: str) -> None:
        """No one to ask (a signal, the terminal gone): save everything now, write what
        cannot be saved to a folder of its own, and exit with `code` (the terminal is
        restored where there still is one)."""
        self.shut_down()
        self.exit_notes.append(f"tui-chat: {why}; everything was saved")
        if (note := self.app.keeping.rescue()) is not None:
            self.exit_notes.append(note)
        self.app.exit(return_code=code)
