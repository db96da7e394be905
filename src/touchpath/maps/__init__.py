"""Journey maps: the document (`document`), binding it to data (`bind`), its pain points and
feedback, discovery of a map from the events, comparison, the library of saved maps, rendering."""

from __future__ import annotations

__all__: list[str] = []
