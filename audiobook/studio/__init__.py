"""The casting studio: a web page on 127.0.0.1 to hear, recast and fix a book (`audiobook studio`).

:mod:`.session` is the book being cast (plan, previews, saves, builds), :mod:`.edits` changes the
casting file in place, :mod:`.views` is what the page shows, :mod:`.server` serves it all
(Starlette and uvicorn, from the ``studio`` extra), and ``static/`` is the page itself.
"""
