"""Assessment: the performance profile, proposed grades from rule sets kept as data, inspector
moderation (append-only) and the assessment letter (issue 8).

* :mod:`.profile` builds the profile relations (SQL over every authority at once);
* :mod:`.ruleset` loads the versioned rule sets in ``data/rules``; :mod:`.evidence` turns their
  evidence items into one long relation; :mod:`.rules` interprets thresholds, adjustments and
  limiting rules as SQL and proposes a grade per judgement;
* :mod:`.moderation` keeps inspectors' confirmations, overrides and text edits;
* :mod:`.letters` drafts strengths and areas for improvement from the evidence;
* :mod:`.report` builds the profile and letter report documents; :mod:`.seed` loads seeds 002-004.
"""
