"""Every command in one table: its keys, what the help screen says it does, the app's binding
(footer label, whether the footer shows it, priority) and the command palette's entry.

The app's `BINDINGS`, the palette's entries and the help screen all come from `COMMANDS`, and
README's key table is checked against it (tests/ui/test_commands.py). Keys that another widget
handles (the prompt's Enter, a focused message's `e`) have a line on the help screen and no
binding here.

Each of the three shows the commands in its own order: the help screen in the table's order,
the app's bindings by `binding` (the footer and Textual's key panel list them in that order)
and the palette by `palette` (the order breaks ties between equally good matches).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.actions import parse
from textual.app import SystemCommand
from textual.binding import Binding

from tui_chat import presets

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp

#: When the palette offers a command: always (when the app's `check_action` allows it) ...
ALWAYS = ""
#: ... only while a reply streams in the open conversation ...
WHILE_STREAMING = "while streaming"
#: ... or once for each preset, the title's `{name}` filled in (the app applies the preset).
EACH_PRESET = "each preset"


@dataclass(frozen=True)
class Command:
    """One command. Every part is optional: a key another widget handles has only its help
    line; a palette-only command has no keys."""

    #: The key(s) as the help screen and README show them ("ctrl+o (ctrl+b)"); "" for no line.
    keys: str = ""
    #: What it does, as the help screen says it.
    does: str = ""
    #: The app action, as Textual writes it ("new_conversation", "flip(-1)").
    action: str = ""
    #: The part of the app that does it ("tools": `app.tools.<action>`; "turns.continue_":
    #: `app.turns.continue_`), when not the app itself (`delegate` gives the app the action).
    by: str = ""
    #: The app's binding, in Textual's key names ("ctrl+o"); "" when the app binds none.
    bind: str = ""
    #: More keys for the action, never in the footer ("ctrl+b": tmux takes it).
    alias: str = ""
    #: The binding's words in the footer and Textual's key panel.
    label: str = ""
    #: Whether the footer shows the binding.
    footer: bool = False
    #: Whether the binding wins over the focused widget's own.
    priority: bool = False
    #: The binding's place among the app's bindings: 1, 2, ... (0: the app binds none).
    binding: int = 0
    #: The palette's entry: its title and help line.
    title: str = ""
    help: str = ""
    #: The entry's place in the palette: 1, 2, ... (0: the palette does not offer it).
    palette: int = 0
    #: When the palette offers it: ALWAYS, WHILE_STREAMING or EACH_PRESET.
    when: str = ALWAYS


COMMANDS: tuple[Command, ...] = (
    Command("Enter", "send the prompt"),
    Command("ctrl+j / shift+enter", "new line in the prompt"),
    Command("Up / Down", "earlier prompts (in an empty prompt)"),
    Command(
        "Escape",
        "cancel the streaming reply",
        action="escape",
        bind="escape",
        label="Cancel",
        binding=2,
        title="Cancel reply",
        help="Stop the streaming reply (Escape)",
        palette=3,
        when=WHILE_STREAMING,
    ),
    Command(
        "ctrl+n",
        "new conversation",
        action="new_conversation",
        by="turns",
        bind="ctrl+n",
        label="New",
        footer=True,
        binding=3,
        title="New conversation",
        help="Start a new conversation (ctrl+n)",
        palette=1,
    ),
    Command(
        "ctrl+r",
        "retry a failed reply / regenerate the last one",
        action="retry",
        by="turns",
        bind="ctrl+r",
        label="Retry",
        footer=True,
        binding=4,
        title="Retry / regenerate",
        help="Send the last turn again (ctrl+r)",
        palette=2,
    ),
    Command(
        "ctrl+o (ctrl+b)",
        "show or hide the parameter sidebar",
        action="toggle_sidebar",
        by="panes",
        bind="ctrl+o",
        alias="ctrl+b",
        label="Params",
        footer=True,
        binding=5,
        title="Toggle parameter sidebar",
        help="Show or hide it (ctrl+o)",
        palette=4,
    ),
    Command(
        "ctrl+l",
        "show or hide the conversation list",
        action="toggle_list",
        by="panes",
        bind="ctrl+l",
        label="List",
        footer=True,
        binding=6,
        title="Toggle conversation list",
        help="Show or hide it (ctrl+l)",
        palette=5,
    ),
    Command(
        "ctrl+f",
        "filter conversations",
        action="filter",
        by="panes",
        bind="ctrl+f",
        label="Filter",
        footer=True,
        binding=7,
        title="Filter conversations",
        help="Type to filter the list (ctrl+f)",
        palette=6,
    ),
    Command(
        "ctrl+y",
        "copy the last reply, or the focused message (OSC 52; works over SSH)",
        action="copy_reply",
        by="tools",
        bind="ctrl+y",
        label="Copy",
        footer=True,
        binding=8,
        title="Copy last reply",
        help="To the clipboard via OSC 52 (ctrl+y)",
        palette=7,
    ),
    Command(
        "shift+Tab from the prompt",
        "focus a message: Up/Down move, y copies it, c copies code",
        action="copy_reply",
        by="tools",
        title="Copy focused message",
        help="Shift+Tab into the messages, then pick one",
        palette=20,
    ),
    Command(
        "e on a focused prompt",
        "edit and resend it, in a copy of the conversation up to it",
        action="edit_prompt",
        by="turns",
        title="Edit and resend a prompt",
        help="The focused prompt (e), sent in a copy of the conversation up to it",
        palette=25,
    ),
    Command(
        "Delete on a focused message",
        "delete it, after asking",
        action="delete_message",
        by="turns",
        title="Delete a message",
        help="The focused message (Delete), after asking",
        palette=26,
    ),
    Command(
        "ctrl+t",
        "continue a reply that stopped at max tokens",
        action="continue",
        by="turns.continue_",
        bind="ctrl+t",
        label="Continue",
        footer=True,
        binding=11,
        title="Continue the reply",
        help="Go on after max tokens (ctrl+t)",
        palette=15,
    ),
    Command(
        "ctrl+g",
        "show or hide the thinking of the last reply (t on a focused reply)",
        action="toggle_thinking",
        by="turns",
        bind="ctrl+g",
        label="Thinking",
        binding=12,
        title="Show or hide thinking",
        help="The thinking of the focused or last reply (ctrl+g)",
        palette=23,
    ),
    Command(
        "alt+left / alt+right",
        "previous / next alternative reply ([ ] on a focused reply)",
        action="flip(-1)",
        by="turns",
        bind="alt+left",
        label="Previous alternative",
        binding=15,
        title="Previous alternative reply",
        help="alt+left, or [ on a focused reply",
        palette=17,
    ),
    Command(
        action="flip(1)",
        by="turns",
        bind="alt+right",
        label="Next alternative",
        binding=16,
        title="Next alternative reply",
        help="alt+right, or ] on a focused reply",
        palette=18,
    ),
    Command(
        "F3",
        "compare two or three configurations side by side",
        action="compare",
        bind="f3",
        label="Compare",
        binding=14,
        title="Compare configurations",
        help="One prompt, two or three settings side by side (F3)",
        palette=11,
    ),
    Command(
        "F4",
        "attach a file to the prompt (again for another; Delete on its chip removes it)",
        action="attach",
        by="attaching",
        bind="f4",
        label="Attach",
        binding=17,
        title="Attach file",
        help="An image, a document or a text file, sent with the next prompt (F4)",
        palette=28,
    ),
    Command(
        "F5",
        "reset the parameters to the defaults (ctrl+n keeps the open conversation's)",
        action="reset_params",
        by="params",
        bind="f5",
        label="Reset params",
        binding=13,
        title="Reset parameters",
        help="Back to the defaults (F5)",
        palette=22,
    ),
    Command("ctrl+p", "command palette: every action, themes, presets, show request…"),
    Command("Tab / shift+Tab", "move between panes and sidebar fields"),
    Command(
        "F1",
        "this help",
        action="help",
        bind="f1",
        label="Help",
        footer=True,
        binding=9,
        title="Help",
        help="Every key (F1)",
        palette=8,
    ),
    Command(
        "F2",
        "rename the conversation",
        action="rename",
        by="turns",
        bind="f2",
        label="Rename",
        binding=10,
        title="Rename conversation",
        help="Give this conversation a title",
        palette=9,
    ),
    Command(
        "Delete (in the list)",
        "delete a conversation, after asking",
        action="delete",
        by="turns",
        title="Delete conversation",
        help="Remove this conversation's file",
        palette=10,
    ),
    Command(
        "ctrl+q",
        "quit (a streaming reply is saved)",
        action="quit",
        bind="ctrl+q",
        label="Quit",
        footer=True,
        priority=True,
        binding=1,
    ),
    Command("ctrl+z / ctrl+shift+z", "undo / redo in the prompt"),
    # In the palette only.
    Command(
        action="choose_model",
        by="params",
        title="Choose model",
        help="From your account's models (or the catalog offline)",
        palette=12,
    ),
    Command(
        action="save_preset",
        by="tools",
        title="Save sidebar as preset",
        help="Name the current parameters",
        palette=13,
    ),
    Command(
        title="Apply preset: {name}",
        help="Set the sidebar to this preset",
        palette=14,
        when=EACH_PRESET,
    ),
    Command(
        action="show_request",
        by="tools",
        title="Show request",
        help="The exact JSON body and boto3 code",
        palette=16,
    ),
    Command(
        action="copy_code",
        by="tools",
        title="Copy code block",
        help="From the focused message or the last reply",
        palette=19,
    ),
    Command(
        action="export",
        by="tools",
        title="Export conversation to Markdown",
        help="Write it to a file you name",
        palette=21,
    ),
    Command(
        action="copy_thinking",
        by="tools",
        title="Copy thinking",
        help="The thinking of the focused or last reply",
        palette=24,
    ),
    Command(
        action="where_files",
        by="attaching",
        title="Where are the attached files",
        help="Where a prompt's files are kept (Enter on a focused prompt)",
        palette=29,
    ),
    # A key another widget binds (Delete or Backspace on an attached file's chip).
    Command(action="remove_attachment", by="attaching"),
    Command(
        action="forget_rules",
        by="params",
        title="Forget rules learned from Bedrock",
        help="Send again what Bedrock refused for this conversation's model",
        palette=27,
    ),
)


def bindings(commands: tuple[Command, ...] = COMMANDS) -> list[Binding]:
    """The app's `BINDINGS`, in order; an alias follows its binding, hidden."""
    out: list[Binding] = []
    for command in sorted((c for c in commands if c.binding), key=lambda c: c.binding):
        out.append(
            Binding(
                command.bind,
                command.action,
                command.label,
                show=command.footer,
                priority=command.priority,
            )
        )
        if command.alias:
            out.append(Binding(command.alias, command.action, command.label, show=False))
    return out


@dataclass(frozen=True)
class PaletteEntry:
    """What the palette offers: `title` and `help` for `SystemCommand`, and the `action` the
    app runs (`app.run_action(action)`), split into the `name` and `parameters` that
    `check_action` takes. `when` says when to offer it (ALWAYS, WHILE_STREAMING, or
    EACH_PRESET: one entry a preset, `title.format(name=preset)`, applying that preset)."""

    title: str
    help: str
    action: str
    when: str = ALWAYS

    @property
    def name(self) -> str:
        return parse(self.action)[1] if self.action else ""

    @property
    def parameters(self) -> tuple[object, ...]:
        return parse(self.action)[2] if self.action else ()


def palette(commands: tuple[Command, ...] = COMMANDS) -> list[PaletteEntry]:
    """The palette's entries, in order."""
    offered = sorted((c for c in commands if c.palette), key=lambda c: c.palette)
    return [PaletteEntry(c.title, c.help, c.action, c.when) for c in offered]


def help_lines(commands: tuple[Command, ...] = COMMANDS) -> list[tuple[str, str]]:
    """The help screen's lines: (keys, what they do), in the table's order."""
    return [(c.keys, c.does) for c in commands if c.keys]


def system_commands(app: ChatApp) -> Iterator[SystemCommand]:
    """The palette's commands for the app as it is now: each preset once, "Cancel reply"
    only while a reply streams, and what `check_action` allows."""
    for entry in palette():
        if entry.when == EACH_PRESET:
            for name in sorted(presets.all_presets(app.settings, app.state)):
                apply = partial(app.tools.apply_preset, name)
                yield SystemCommand(entry.title.format(name=name), entry.help, apply)
        elif entry.when == WHILE_STREAMING and app.conversation.id not in app.streams:
            continue
        elif app.check_action(entry.name, entry.parameters):
            yield SystemCommand(entry.title, entry.help, partial(app.run_action, entry.action))


def delegate(app_class: type) -> type:
    """Give the app class an `action_<name>` for each command a part of the app does (`by`):
    Textual looks for actions on the app; the part does the work. Used as a class decorator."""
    for command in COMMANDS:
        if command.by:
            name = parse(command.action)[1]
            part, _, method = command.by.partition(".")
            setattr(app_class, f"action_{name}", _delegated(part, method or name))
    return app_class


def _delegated(part: str, method: str) -> Any:
    # Textual passes an action as many of its parameters as the method takes: one, at most,
    # for the commands here (flip's direction).
    def action(self: Any, *parameters: object) -> Any:
        return getattr(getattr(self, part), method)(*parameters)

    action.__name__ = f"action_{method}"
    action.__doc__ = f"`app.{part}.{method}` (ui/commands.py)."
    return action
