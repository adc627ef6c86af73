"""Stage 2, model: one replication of a scenario as SimPy processes.

Shared markets (:mod:`.interconnection` region queues, :mod:`.transformers`)
and one :class:`.site.SiteModel` per site, whose processes each live in a
module of their own (:mod:`.substation`, :mod:`.construction`, :mod:`.cooling`,
:mod:`.gpus`, :mod:`.onsite`) and change the site only through its methods.
:mod:`.layers` is the registry of capacity layers, :mod:`.capacity` works out
what runs at one instant (from what :mod:`.instant` reads and keeps), :mod:`.binding`
which layer held idle GPUs back, :mod:`.events` is the event vocabulary,
:mod:`.event_log` the log as columns, :mod:`.records` the per-site result record,
and :mod:`.simulation` puts one replication together. Every draw comes from a named
stream (:mod:`.streams`); a serial region's background requests are drawn ahead as
arrays (:mod:`.background`).
"""

from dcsim.native import use_compiled

use_compiled(__path__)  # the compiled modules first, where `dcsim compile` made them
