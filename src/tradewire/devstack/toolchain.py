"""Java and Maven: find them, check them, and resolve the Kafka classpath into a cache.

The cache lives outside the work tree (`$TRADEWIRE_CACHE_DIR`, else `$XDG_CACHE_HOME/tradewire`,
else `~/.cache/tradewire`) and is keyed by a hash of the pom, so a changed Kafka version
gets a fresh classpath and a second `dev up` does no Maven work at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tradewire.errors import DevStackError

__all__ = ["KafkaClasspath", "cache_dir", "find_java", "resolve_kafka"]

MIN_JAVA = 17


def cache_dir() -> Path:
    """Where tradewire keeps downloaded artifacts between runs."""
    explicit = os.environ.get("TRADEWIRE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tradewire"


def find_java() -> Path:
    """The java executable ($JAVA_HOME first), checked to be Java 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if java is None:
        raise DevStackError(
            "Java is not installed (no `java` on PATH and no JAVA_HOME); Kafka 4 needs Java 17 or newer, "
            "e.g. `apt-get install openjdk-17-jre-headless`"
        )
    completed = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr + completed.stdout)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise DevStackError(
            f"{java} is Java {major or 'of an unknown version'}; Kafka 4 needs Java {MIN_JAVA} or newer"
        )
    return Path(java)


@dataclass(frozen=True, slots=True)
class KafkaClasspath:
    """A resolved broker classpath: the jar directory and where its class-data archive goes."""

    lib: Path
    cds_archive: Path
    resolved_in_seconds: float

    @property
    def classpath(self) -> str:
        """The `-cp` argument (absolute, as the class-data archive requires)."""
        return f"{self.lib.resolve()}/*"


def resolve_kafka(pom: Path) -> KafkaClasspath:
    """Resolve the pom's runtime dependencies into the cache (once per pom content)."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    home = cache_dir() / "kafka" / digest
    lib = home / "lib"
    stamp = home / "resolved"
    started = time.monotonic()
    if not stamp.is_file():
        maven = shutil.which("mvn")
        if maven is None:
            raise DevStackError(
                "Maven is not installed (no `mvn` on PATH); it resolves the Kafka broker from Maven Central, "
                "e.g. `apt-get install maven`"
            )
        if lib.exists():
            shutil.rmtree(lib)
        home.mkdir(parents=True, exist_ok=True)
        command = [
            maven,
            "-q",
            "-B",
            f"-Dmaven.repo.local={cache_dir() / 'm2'}",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if completed.returncode != 0 or not any(lib.glob("kafka_2.13-*.jar")):
            output = (completed.stdout + completed.stderr).strip().splitlines()[-15:]
            raise DevStackError(
                "Maven could not resolve the Kafka broker from Maven Central "
                f"({' '.join(command[:2])} ... exited {completed.returncode}):\n" + "\n".join(output)
            )
        stamp.write_text(digest + "\n")
    return KafkaClasspath(lib, home / "broker.jsa", time.monotonic() - started)
