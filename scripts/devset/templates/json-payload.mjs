/** JSON request and response bodies and log records with PHI in string fields. */
export default {
  style: 'json-payload',
  repeat: 3,
  tune: {
    all: [
      '{"vehicle":{"vin":"{vin}","registration":"{plate}"},"owner":"{name}"}',
      '{"implant":{"serial":"{dev}"},"portal":"{url}","billing":{"account":"{iban}","card":"{card}"}}',
      '{"level":50,"time":{epoch},"msg":"validation failed for patient {name}","field":"dob"}',
      '{"patient":{"name":"{name}","birthDate":"{dob}","phone":"{phone}"},"mrn":"{mrn}"}',
      '{"member_id":"{hp}","address":{"line":"{ustreet}","city":"{city}","postalCode":"{zip}"}}',
      '{"event":"login","email":"{email}","ip":"{ip}","ua":"{prod}"}',
      '{"id":"{uuid}","status":{status},"durationMs":{ms},"version":"{ver}"}',
      '{"code":"{icd}","display":"{epo}","system":"ICD-10"}',
      '{"medication":"{drug}","dose":"{dose}","loinc":"{loinc}"}',
    ],
  },
  apart: {
    all: [
      '{"claim":{"beneficiary":"{mbi}","provider":"{fac}","site":"{domain}"},"serviceDate":"{date}"}',
      '{"kin":{"fullName":"{name}","mobile":"{iphone}","home":{"street":"{ustreet}","zip":"{zip}","town":"{city}"}}}',
      '{"resourceType":"Patient","name":[{"text":"{name}"}],"birthDate":"{dob}","telecom":[{"value":"{iphone}"}]}',
      '{"subject":"{rname}","encounter":{"facility":"{fac}","start":"{date}"}}',
      '{"payment":{"iban":"{iban}","holder":"{name}"},"ref":"{uuid}"}',
      '{"driver":{"license":"{lic}","vehicle":"{vin}","plate":"{plate}"}}',
      '{"contact":{"website":"{url}","email":"{email}"},"notes":"call {phone}"}',
      '{"trace":"{hash}","spanMs":{ms},"route":"{path}","http.status":{status}}',
      '{"observation":"{lab}","interpretation":"{epo}","cpt":"{cpt}"}',
      '{"sku":"{prod}","vendor":"{comp}","release":"{ver}","qty":{n}}',
    ],
  },
};
