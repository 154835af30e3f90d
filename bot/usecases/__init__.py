"""The use cases :class:`bot.assistant.Assistant` composes, one module each.

- :mod:`~bot.usecases.core`: what they share: the answer engine, the case work (opened again
  when its database comes back), the audit spool, the platform state and the metrics;
- :mod:`~bot.usecases.asking`: ask, and the answers behind buttons pressed later;
- :mod:`~bot.usecases.listening`: which messages in a conversation the bot takes part in
  (follow-ups in a thread it answered);
- :mod:`~bot.usecases.escalating`: escalate (once per answer, team and asker), the asker's note
  or anonymity;
- :mod:`~bot.usecases.reviewing`: a case's steps, "my cases", "my team's cases", feedback and
  delivering the outbox;
- :mod:`~bot.usecases.home`: a person's home: their cases, their teams' cases, the admins'
  digest;
- :mod:`~bot.usecases.announcing`: policy-change announcements and muting them;
- :mod:`~bot.usecases.approving`: approved answers;
- :mod:`~bot.usecases.pressing`: every button and form of every platform, through one entry;
- :mod:`~bot.usecases.admin`: reload, the insights digest, health and the start-up summary.

Adapters never import these: they hold the :class:`~bot.assistant.Assistant`.
"""
