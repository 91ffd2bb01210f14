"""A small helper process that holds only a fresh eSpeak NG engine and speaks each clip in a fork of itself.

Each clip must be spoken from an engine that has never spoken (see :mod:`audiobook.engine`), so
it is spoken in a child forked from one. Forking costs in proportion to the memory of the process
forked: a worker that has loaded numpy, LAME and the resampler pays several milliseconds a clip
for it, while this helper (the interpreter, ctypes and eSpeak NG, nothing else) pays about a third
of that. A worker starts one with :class:`SpeechProcess` and sends it clips over a pipe; the PCM is
byte-identical to what the worker's own engine would make (the same code speaks it).

Protocol on the helper's stdin and stdout: a request is a 4-byte big-endian length and a pickled
``(text, Voice)``; the answer is a status byte (0 for PCM, 1 for a one-line error message) and a
4-byte length. A message follows on stdout; PCM is left in a file in memory that the worker
passed to the helper (its fd is the helper's only argument), as a pipe would wake the worker for
every 64 kB. The helper ignores Ctrl-C (the build handles it) and exits when its stdin closes, so
it never outlives the worker that started it.

If the helper dies (killed, out of memory), :class:`SpeechProcess` starts a new one and asks again once;
if that one dies too, the clip fails with a one-line EngineError.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Sequence

from audiobook import engine
from audiobook.engine import Voice
from audiobook.errors import EngineError
from audiobook.orphans import die_with_parent

_LENGTH = struct.Struct(">I")
_ANSWER = struct.Struct(">BI")
_PCM, _ERROR = 0, 1
COMMAND = (sys.executable, "-m", "audiobook.zygote")


class SpeechProcess:
    """Speaks clips in a helper process of its own (started at once, in the background).

    Where there is no ``os.fork`` (Windows) it speaks with this process's engine instead.
    """

    def __init__(self, command: Sequence[str] = COMMAND) -> None:
        self._command = list(command)
        self._process: subprocess.Popen[bytes] | None = None
        self._speech: int | None = None  # the file in memory the helper leaves PCM in
        if hasattr(os, "fork"):
            self._start()

    def _start(self) -> None:
        if self._speech is None:
            self._speech = engine.memory_file()
        self._process = subprocess.Popen(
            [*self._command, str(self._speech)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
            pass_fds=(self._speech,),
        )

    @property
    def pid(self) -> int | None:
        """The helper's process id; None while none is running (not started yet, closed, or no fork here)."""
        return None if self._process is None else self._process.pid

    def speak(self, text: str, voice: Voice) -> bytes:
        """16-bit mono PCM at ``engine.SAMPLE_RATE_HZ``, as :meth:`engine.EspeakEngine.synthesize` gives it."""
        if not hasattr(os, "fork"):
            return engine.get_engine().synthesize(text, voice)
        request = pickle.dumps((text, voice), protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in range(2):
            # after a failed answer, restart even if the helper looks alive: a killed process
            # closes its pipes a moment before poll() sees it gone
            if self._process is None or attempt or self._process.poll() is not None:
                self.close()
                self._start()
            answer = self._ask(request)
            if answer is not None:
                status, payload = answer
                if status == _ERROR:
                    raise EngineError(payload.decode("utf-8", "replace"))
                return payload
        how = _how_it_ended(self._process)
        self.close()
        raise EngineError(
            f"the eSpeak NG helper process died twice ({how}) speaking {len(text)} characters: "
            "clips finished so far are cached; run again to resume"
        )

    def _ask(self, request: bytes) -> tuple[int, bytes] | None:
        """Send one request and read its answer; None if the helper died on the way."""
        assert self._process is not None and self._process.stdin is not None and self._process.stdout is not None
        try:
            self._process.stdin.write(_LENGTH.pack(len(request)) + request)
            header = _read_exactly(self._process.stdout.fileno(), _ANSWER.size)
            if header is None:
                return None
            status, length = _ANSWER.unpack(header)
            if status == _PCM:
                assert self._speech is not None
                return status, engine.read_all(self._speech, length)
            payload = _read_exactly(self._process.stdout.fileno(), length)
        except (BrokenPipeError, ConnectionResetError):
            return None
        return None if payload is None else (status, payload)

    def close(self) -> None:
        """Stop the helper (it also stops by itself when this process ends)."""
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        if process.poll() is None:
            process.kill()
        process.wait()

    def __del__(self) -> None:
        if self._speech is not None:
            os.close(self._speech)


def _how_it_ended(process: subprocess.Popen[bytes] | None) -> str:
    if process is None:
        return "not started"
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "not answering"
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at end of file before that."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if n == 0:
            return None
        got += n
    return bytes(buffer)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> None:
    """The helper: answer requests on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    die_with_parent()  # its worker killed: no helper left behind
    requests = os.dup(0)
    answers = os.dup(1)
    speech_file = int(sys.argv[1])
    os.dup2(2, 1)  # anything printed by accident goes to stderr, never into the answers
    try:
        speech: engine.EspeakEngine | None = engine.get_engine()
        failure = ""
    except EngineError as error:  # told to the worker at its first request
        speech, failure = None, str(error)
    while True:
        header = _read_exactly(requests, _LENGTH.size)
        if header is None:
            return
        request = _read_exactly(requests, _LENGTH.unpack(header)[0])
        if request is None:
            return
        text, voice = pickle.loads(request)
        try:
            if speech is None:
                raise EngineError(failure)
            answer = _ANSWER.pack(_PCM, speech.speak_into(speech_file, text, voice))  # the PCM goes straight there
        except EngineError as error:
            message = str(error).encode("utf-8", "replace")
            answer = _ANSWER.pack(_ERROR, len(message)) + message
        try:
            _write_all(answers, answer)
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
