"""Stage 1, input: site and scenario files to one validated, frozen Scenario.

Files are read strictly (:mod:`.toml_table`), includes and the catalog are merged
and dotted-key overrides applied (:mod:`.files`), quantities are parsed with
their units (:mod:`.units`) and durations become distributions
(:mod:`.distributions`); :mod:`.validate` then checks every key once and builds
the frozen dataclasses of :mod:`.spec`, in canonical units. :mod:`.load` is the
entry point, :mod:`.overrides` changes a loaded scenario, :mod:`.dump` and
:mod:`.describe` write it back out as TOML or plain text. Nothing downstream
parses a file again.
"""
