"""Data-set builders: they run the pipelines and the trackers over real or made inputs and write sets
that training reads (``talkingface preprocess``, ``make-dataset``, ``make-talking-faces``). They stand
above the pipelines; the readers of the sets they write are in :mod:`talkingface.data`."""
