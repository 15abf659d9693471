# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web server of a guest with web ports: the page that names the host that served it."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

WEB_ROOT = '/var/www/lvs-lab'


def nginx_site(host):
    servers = ''.join('server {\n    listen %d;\n    listen [::]:%d;\n    root %s;\n    index index.html;\n}\n'
                      % (port, port, WEB_ROOT) for port in host['web_ports'])
    return '# Written at every boot by lvs-lab-identity from the lab topology.\n' + servers
