"""Build the HTML docsite, .build/docsite/html: the guides in docs/ and the collection's reference.

antsibull-docs writes the reference (modules, filters, roles) the way the Ansible documentation
shows a collection - `sphinx-init` for the Sphinx configuration, `collection --use-current` for
the pages - and MyST reads the guides as they are, Markdown that also reads well on its own.
docs/index.md is the front page. Nothing is fetched: intersphinx gets a local inventory of the
few Ansible documentation labels the reference pages link to. Sphinx runs nitpicky with
warnings as errors, so a broken link between guides, a missing heading anchor or an unknown
label fails the build.

    python scripts/build-docsite.py
"""

import os
import pathlib
import re
import runpy
import shutil
import subprocess
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = ROOT / ".build" / "docsite"
COLLECTION = "lvs.topology"
# The labels of the Ansible documentation that antsibull-docs' pages refer to, as
# (label, page#anchor, title); a new one shows up as an "undefined label" warning.
ANSIBLE_LABELS = [
    ("action_plugins", "plugins/action.html#action-plugins", "Action plugins"),
    ("ansible_configuration_settings", "reference_appendices/config.html#ansible-configuration-settings",
     "Ansible Configuration Settings"),
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values", "Return Values"),
]
CONF_ADDITIONS = """
# Added by scripts/build-docsite.py. Built offline: intersphinx reads the local inventory of
# the Ansible documentation's labels instead of fetching inventories.
intersphinx_mapping = {"ansible_devel": (%r, "../ansible_devel.inv")}
# The guides are Markdown; GitHub's heading anchors keep their links to sections working, and a
# code block without a language stays plain text, as GitHub shows it (the reference pages name
# theirs).
extensions.append("myst_parser")
myst_heading_anchors = 4
highlight_language = "none"
"""


def run(*command, quiet=False):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL if quiet else None)


def private_directory(path):
    """antsibull-docs writes only into directories that no one else may write to."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o755)
    return path


def write_inventory(path, labels):
    """A Sphinx inventory (version 2) of standard labels, what intersphinx would have downloaded."""
    header = ("# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              "# The remainder of this file is compressed using zlib.\n")
    body = "".join("%s std:label -1 %s %s\n" % label for label in labels)
    path.write_bytes(header.encode("utf-8") + zlib.compress(body.encode("utf-8")))


def navigation(index_text, guides):
    """Hidden toctrees for the sidebar: the guides in the order the index links them, then the reference."""
    linked = []
    for name in re.findall(r"\]\(([\w.-]+)\.md(?:#[^)]*)?\)", index_text):
        if name in guides and name not in linked:
            linked.append(name)
    ordered = linked + sorted(set(guides) - set(linked))
    return ("\n<!-- Added by scripts/build-docsite.py: the docsite's navigation. -->\n"
            "```{toctree}\n:hidden:\n:caption: Guides\n\n%s\n```\n\n"
            "```{toctree}\n:hidden:\n:caption: Reference\n\nreference/index\n```\n" % "\n".join(ordered))


def main():
    shutil.rmtree(SITE, ignore_errors=True)
    source = private_directory(SITE / "src")
    rst = source / "rst"
    run("antsibull-docs", "sphinx-init", "--use-current", "--dest-dir", str(source), "--project", COLLECTION,
        "--copyright", "lvs.topology contributors", "--title", COLLECTION, COLLECTION, quiet=True)
    # docs/index.md is the front page instead.
    (rst / "index.rst").unlink()
    run("antsibull-docs", "--config-file", str(source / "antsibull-docs.cfg"), "collection", "--use-current",
        "--squash-hierarchy", "--fail-on-error", "--dest-dir", str(private_directory(rst / "reference")), COLLECTION)

    guides = sorted((ROOT / "docs").glob("*.md"))
    for guide in guides:
        shutil.copyfile(guide, rst / guide.name)
    shutil.copytree(ROOT / "docs" / "diagrams", rst / "diagrams")
    index = rst / "index.md"
    front_page = index.read_text(encoding="utf-8")
    index.write_text(front_page + navigation(front_page, [guide.stem for guide in guides if guide.stem != "index"]),
                     encoding="utf-8")

    conf = source / "conf.py"
    ansible_docs_url = runpy.run_path(str(conf))["intersphinx_mapping"]["ansible_devel"][0]
    write_inventory(source / "ansible_devel.inv", ANSIBLE_LABELS)
    with conf.open("a", encoding="utf-8") as handle:
        handle.write(CONF_ADDITIONS % ansible_docs_url)

    build = subprocess.run(["sphinx-build", "-M", "html", str(rst), str(SITE), "-c", str(source),
                            "-W", "--keep-going", "-q"], check=False, stderr=subprocess.PIPE, text=True)
    # The guides are copied line for line: name the file to edit, not its copy.
    sys.stderr.write(re.sub(r"%s/([\w.-]+\.md)\b" % re.escape(str(rst)), r"docs/\1", build.stderr))
    if build.returncode != 0:
        raise subprocess.CalledProcessError(build.returncode, build.args)
    print("docsite: %s" % (SITE / "html" / "index.html").relative_to(ROOT))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as error:
        sys.exit("docsite: %s failed (exit status %d; its messages are above)" % (error.cmd[0], error.returncode))
