"""inject, qfile and unshunt (reference §8)."""

MSG = "From: anne@example.org\nTo: ant@example.com\nSubject: injected\n\nbody\n"


def pck(crier, queue):
    return sorted((crier.var / "queue" / queue).glob("*.pck"))


def test_inject_default_queue(crier):
    crier.ok("create", "ant@example.com")
    crier.ok("inject", "ant@example.com", input=MSG)
    (entry,) = pck(crier, "in")
    out = crier.ok("qfile", str(entry)).stdout
    assert "'listid': 'ant.example.com'" in out
    assert "\nMessage-ID: <" in out and "\nMessage-ID-Hash: " in out
    assert "\nDate: " in out
    assert "X-MailFrom" not in out
    assert "Subject: injected" in out


def test_inject_queue_file_and_metadata(crier, tmp_path):
    crier.ok("create", "ant@example.com")
    f = tmp_path / "msg.txt"
    f.write_text("Message-ID: <ant>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nx\n")
    crier.ok("inject", "-q", "virgin", "-f", str(f), "-m", "recipients=a@example.org",
             "ant.example.com")
    (entry,) = pck(crier, "virgin")
    out = crier.ok("qfile", str(entry)).stdout
    assert "Message-ID-Hash: MS6QLWERIJLGCRF44J7USBFDELMNT2BW" in out
    assert out.count("Date: ") == 1
    assert "'recipients': 'a@example.org'" in out


def test_inject_errors(crier):
    proc = crier.run("inject", "nosuch@example.com", input=MSG, check=2)
    assert "Error: No such list: nosuch@example.com" in proc.stderr
    crier.ok("create", "ant@example.com")
    proc = crier.run("inject", "-q", "nowhere", "ant@example.com", input=MSG, check=2)
    assert "Error: No such queue: nowhere" in proc.stderr
    out = crier.ok("inject", "-s").stdout
    assert out.startswith("Available queues are:\n")
    for q in ("bad", "in", "out", "shunt", "virgin"):
        assert f"    {q}\n" in out


def test_unshunt(crier):
    crier.ok("create", "ant@example.com")
    crier.ok("inject", "-q", "shunt", "-m", "whichq=out", "ant@example.com", input=MSG)
    crier.ok("inject", "-q", "shunt", "ant@example.com", input=MSG)
    crier.ok("unshunt")
    assert pck(crier, "shunt") == []
    assert len(pck(crier, "out")) == 1 and len(pck(crier, "in")) == 1
    crier.ok("inject", "-q", "shunt", "ant@example.com", input=MSG)
    crier.ok("unshunt", "-d")
    assert pck(crier, "shunt") == [] and len(pck(crier, "in")) == 1


def test_qfile_missing(crier):
    proc = crier.run("qfile", "/nonexistent.pck", check=2)
    assert "does not exist" in proc.stderr
