"""beets plugin: valence, arousal and mood of each track, as flexible attributes.

Enable it in beets' ``config.yaml`` (install with ``pip install 'va-mood[beets]'``)::

    plugins: vamood
    vamood:
        auto: no       # yes: analyse every imported track
        model: ''      # a va_mood model bundle folder; empty: the shipped default model
        jobs: 1        # worker processes for feature extraction
        force: no      # yes: analyse again tracks already analysed by the same model

``beet vamood [QUERY]`` analyses the matched items and stores ``vamood_valence`` and
``vamood_arousal`` (floats on va_mood's -1..1 plane), ``vamood_mood`` (Uplifting, Aggressive,
Melancholic, Calm), ``vamood_quadrant`` (Q1..Q4) and ``vamood_model`` (the model version), so
``beet ls vamood_mood:Calm``, ``beet ls vamood_valence:0.5..`` and smart playlists work. Tags
are written into the files as beets' own ``import.write`` setting says (``-w``/``-W`` override
it), with the same tag names as ``va-mood tag`` (see va_mood's docs/scales_and_tags.md); beets'
``write`` command does not write these attributes, because they are no media fields.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from beets import ui, util
from beets.dbcore import types
from beets.plugins import BeetsPlugin

if TYPE_CHECKING:
    import optparse
    from collections.abc import Sequence

    from beets.importer import ImportSession, ImportTask
    from beets.library import Item, Library


class VaMoodPlugin(BeetsPlugin):
    """``beet vamood``: predict valence, arousal and mood with va_mood."""

    item_types: ClassVar[dict[str, types.Type]] = {
        "vamood_valence": types.NullFloat(2),
        "vamood_arousal": types.NullFloat(2),
        "vamood_mood": types.STRING,
        "vamood_quadrant": types.STRING,
        "vamood_model": types.STRING,
    }

    def __init__(self) -> None:
        super().__init__()
        self.config.add({"auto": False, "model": "", "jobs": 1, "force": False})
        self._bundle: Any = None
        self._version: str | None = None
        self._pending_write: set[int] = set()
        if self.config["auto"].get(bool):
            self.import_stages = [self.imported]
            self.register_listener("import_task_files", self.import_task_files)

    # ---- beets entry points ------------------------------------------------------------------

    def commands(self) -> list[ui.Subcommand]:
        cmd = ui.Subcommand("vamood", help="predict valence, arousal and mood with va_mood")
        cmd.parser.add_option(
            "-f",
            "--force",
            action="store_true",
            default=None,
            help="analyse again items already analysed by the same model",
        )
        cmd.parser.add_option(
            "-w", "--write", action="store_true", default=None, help="write tags to the files"
        )
        cmd.parser.add_option(
            "-W", "--nowrite", action="store_false", dest="write", help="do not write tags"
        )
        cmd.func = self.command
        return [cmd]

    def command(self, lib: Library, opts: optparse.Values, args: list[str]) -> None:
        force = self.config["force"].get(bool) if opts.force is None else opts.force
        write = ui.should_write(opts.write)
        self.analyse(lib.items(args), force=force, write=write)

    def imported(self, session: ImportSession, task: ImportTask) -> None:
        """Import stage: analyse and store; tags are written once the files are in place."""
        done = self.analyse(task.imported_items(), force=self.config["force"].get(bool))
        if ui.should_write():
            self._pending_write.update(item.id for item in done)

    def import_task_files(self, session: ImportSession, task: ImportTask) -> None:
        for item in task.imported_items():
            if item.id in self._pending_write:
                self._pending_write.discard(item.id)
                self._write(item)

    # ---- work --------------------------------------------------------------------------------

    def _model(self) -> tuple[Any, str]:
        if self._bundle is None:
            from va_mood.api import load_model
            from va_mood.errors import VaMoodError
            from va_mood.outputs.tagging import model_version

            path = self.config["model"].as_str() or None
            try:
                self._bundle = load_model(path)
            except VaMoodError as exc:
                raise ui.UserError(f"vamood: {exc}") from None
            self._version = model_version(self._bundle)
        return self._bundle, self._version

    def analyse(self, items: Sequence[Item], *, force: bool, write: bool = False) -> list[Item]:
        """Predict and store the ``vamood_*`` attributes of ``items``; return those updated."""
        bundle, version = self._model()
        todo = [item for item in items if force or item.get("vamood_model") != version]
        skipped = len(items) - len(todo)
        if skipped:
            self._log.info("{} item(s) already analysed by {}; -f to redo them", skipped, version)
        if not todo:
            return []
        from va_mood.features.quality import UNCERTAIN

        by_path = {os.fsdecode(util.syspath(item.path)): item for item in todo}
        self._log.info("analysing {} item(s) with {}", len(by_path), version)
        table = bundle.predict_files(
            list(by_path), jobs=self.config["jobs"].get(int), on_error="collect"
        )
        for path, message in table.attrs.get("errors", {}).items():
            self._log.error("{}", message if path in message else f"{path}: {message}")
        for message in table.attrs.get("warnings", {}).values():
            self._log.warning("{}", message)
        done = []
        for path, row in table.iterrows():
            if row["mood"] == UNCERTAIN:  # silence or not music: no mood to store
                continue
            item = by_path[str(path)]
            item["vamood_valence"] = round(float(row["valence"]), 4)
            item["vamood_arousal"] = round(float(row["arousal"]), 4)
            item["vamood_mood"] = str(row["mood"])
            item["vamood_quadrant"] = str(row["quadrant"])
            item["vamood_model"] = version
            self._log.info(
                "{}: {} (valence {:+.2f}, arousal {:+.2f})",
                util.displayable_path(item.path),
                row["mood"],
                row["valence"],
                row["arousal"],
            )
            if write:
                self._write(item, row)
            item.store()
            done.append(item)
        return done

    def _write(self, item: Item, row: Any = None) -> None:
        """Write the item's va_mood attributes into its file's tags (as ``va-mood tag``)."""
        from va_mood.outputs.tagging import write_tags

        if row is None:
            row = {
                "valence": item["vamood_valence"],
                "arousal": item["vamood_arousal"],
                "quadrant": item["vamood_quadrant"],
            }
        path = os.fsdecode(util.syspath(item.path))
        result = write_tags(
            path, row, model_version=item["vamood_model"], scale="plane", overwrite=True
        )
        if not result.ok:
            self._log.error("{}", result.line())
            return
        item.mtime = item.current_mtime()  # beets' record of the file: we changed it
        item.store()
