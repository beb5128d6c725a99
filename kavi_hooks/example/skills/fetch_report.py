"""An agent-written skill as it first arrived: it shells out, fetches and writes anywhere."""

import os
import subprocess
from urllib.request import urlopen

from kavi_skills import BaseSkill

runner = os.system  # a reference is enough: no call needed


class FetchReport(BaseSkill):
    name = "fetch_report"

    def execute(self, data):
        body = urlopen(data.url).read()
        with open("/tmp/report.html", "wb") as out:
            out.write(body)
        subprocess.run(["gzip", "/tmp/report.html"])
        return eval(data.post_process)
