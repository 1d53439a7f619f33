/** Application log lines: plain text and key=value, with PHI leaking into messages and fields. */
export default {
  style: 'log-line',
  repeat: 3,
  tune: {
    all: [
      '{ts} INFO device {dev} paired for {name}; portal {domain}',
      '{ts} INFO http GET {path} {status} {ms}ms',
      '{ts} WARN login failed user={email} ip={ip}',
      '{ts} ERROR sync failed for patient {name} (mrn={mrn}) host={host}',
      '{ts} DEBUG lookup phone={phone} result=1 {req}',
      '{ts} INFO worker {host} processed {n} jobs in {ms}ms version={ver}',
      'level=info msg="export done" id={uuid} sha={hash} took={ms}ms',
      '{ts} WARN retry {n}/5 for job {uuid} on {host}',
      '{ts} INFO appointment booked for {name} on {date} at {fac}',
    ],
  },
  apart: {
    all: [
      'ts={ts} lvl=warn msg="duplicate patient" a="{rname}" b="{name}" birth={dob}',
      '[{ts}] audit: record viewed subject="{name}" dob={dob} by={email}',
      '{ts} error: invalid address "{street}, {zip} {city}" for account {acct}',
      'WARN {ts} upstream {ip} returned {status} for /patients?name={lname}',
      '{ts} notice: card {card} declined for {name}',
      '{ts} INFO GET {path} -> {status} in {ms} ms (trace {hash})',
      'component=scheduler event=tick jobs={n} lag_ms={ms} build={ver}',
      '[{ts}] worker={host} queue=exports depth={n} release={ver}',
      '{ts} debug: cache miss key={uuid} {req}',
      '{ts} info: reminder SMS to {iphone} sent ({req})',
    ],
  },
};
