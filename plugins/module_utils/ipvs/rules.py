# -*- coding: utf-8 -*-
# Copyright: lvs.topology contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's rules format: a whole IPVS table as text, complete and in a fixed order.

Private to the collection: this API may change without notice.

The format is the save format of saveformat.py - the -A and -a lines that ``ipvsadm -R``
reads, rendered by the same code that renders the modules' commands - with three
differences from what ``ipvsadm --save`` prints, each because the save format loses
something or is not stable:

- every real server's thresholds are on its -a line (-x upper, -y lower): ipvsadm --save
  never prints them, so a saved table restores without them;
- every fwmark is its unsigned number: ipvsadm --save prints a mark above 2147483647 with
  %d, as a negative number that ipvsadm cannot read back;
- the lines are in in_record_order, byte order (every -A line before every -a line), not in
  the kernel's hash order, so the same table is always the same text and a change to it is
  a readable diff; the table record digests the live table in the same order.

A first comment line names the format and its version, RULES_HEADER, so a reader can tell
the collection's rules from ipvsadm's output and refuse a version it does not know.

What ipvsadm 1.31 (ipvsadm.c and config_stream.c of the 1.31 release tarball) makes of these
lines when they are fed to ``ipvsadm -R``, which reads each line with config_stream_read()
and parses it with the command line's own process_options():

- -x and -y on an -a line: accepted. commands_v_options, row ADDSRV (and EDITSRV), marks
  both as optional, and parse_options() reads them with string_to_number(optarg, 0,
  INT_MAX), the range values.MAX_THRESHOLD checks.
- -f with an unsigned mark above 2147483647: accepted where a C long has 64 bits (every
  64-bit Linux). parse_fwmark() reads the mark with strtol() into an unsigned long and
  refuses only ERANGE, 0 or less, and more than UINT_MAX; a 32-bit build's strtol()
  saturates at 2147483647 with ERANGE and refuses such a mark. The negative spelling
  --save prints ("-f -1") is refused everywhere (it is 0 or less).
- the comment line: refused. config_stream_read() looks for '#' only in the whitespace
  after a word, so a comment line reaches process_options() as words, popt finds no
  option in it and ipvsadm exits (tryhelp_exit) without reading the lines after it. The
  wrapper script ipvsadm-restore drops lines that start with '#' (grep -v '^#'), then
  flushes the table and feeds the rest to ipvsadm -R.

So rules text loads through ``ipvsadm-restore`` (or ``grep -v '^#' | ipvsadm -R``) on a
64-bit host. The director role's boot unit does exactly that with the table it saved, at boot,
on a table still empty. Everywhere else the collection does not feed the text to ipvsadm:
ipvs_table state parsed turns it into config, and ipvs_table applies config by planning it
against the live table - edits in place, not the flush ipvsadm-restore starts with. A 32-bit
ipvsadm refuses a mark above 2147483647 in any form, on its command line too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lvs.topology.plugins.module_utils.ipvs.model import IpvsInputError, IpvsParseError
from ansible_collections.lvs.topology.plugins.module_utils.ipvs.saveformat import in_record_order, parse_saved_table, table_lines

RULES_FORMAT = "# lvs.topology rules"
RULES_VERSION = 1
RULES_HEADER = "%s v%d" % (RULES_FORMAT, RULES_VERSION)


def rules_lines(table):
    """The table in the rules format: the header, then its -A and -a lines in record order."""
    return [RULES_HEADER] + in_record_order(table_lines(table))


def parse_rules(text, source="running_config"):
    """A table (OrderedDict VirtualService -> ServiceEntry) from rules text or from plain
    ``ipvsadm -Sn`` output (no header, fwmarks perhaps negative, no thresholds).

    Raises IpvsInputError with one sentence naming source and, for a line it cannot read,
    the line's number and text; a rules header of another version is refused, since its
    lines may mean something this version does not know.
    """
    for line in text.splitlines():
        header = line.strip()
        if header.startswith(RULES_FORMAT) and header != RULES_HEADER:
            raise IpvsInputError("%s has the header %r, but this version of lvs.topology reads %r (and ipvsadm -Sn output)." % (
                source, header, RULES_HEADER))
    try:
        return parse_saved_table(text, source)
    except IpvsParseError as error:
        raise IpvsInputError("%s." % error)
