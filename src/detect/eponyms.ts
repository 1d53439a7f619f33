/**
 * Medical eponyms: names and places that name a disease, sign, score or test ("Parkinson's
 * disease", "Glasgow Coma Scale", "Framingham Risk Score", "Wells score") and are not PHI.
 * The list is written for Ward from common clinical usage.
 */

// A head noun after the candidate (and up to two more words): the candidate names a thing, not a person or place.
const HEAD_AFTER =
  /^(?:['’]s?)?(?:[\s-]+[\p{L}]+){0,2}?[\s-]+(?:disease|diseases|syndrome|sign|signs|score|scores|scale|criteria|palsy|lymphoma|sarcoma|tumou?r|test|maneuver|manoeuvre|reflex|classification|grade|grading|stage|staging|index|rule|rules|equation|formula|procedure|operation|repair|fracture|phenomenon|triad|law|effect|cells?|nodes?|ulcer|cyst|duct|canal|gland|deformity|contracture|block|method|technique|catheter|tube|stain|encephalopathy|an(?:a)?emia|thyroiditis|hernia|diverticulum|virus|infection|fever|neuroma|neuralgia|dystrophy|ataxia|chorea|aneurysm|murmur|esophagus|oesophagus|questionnaire|inventory|assessment|pathway|protocol|bodies|body|granuloma|nodule|disorder|dementia|lesion|position|incision)\b/iu;

/** Words that name a disease, sign, scale or test on their own; never a finding alone. */
export const EPONYMS = new Set(
  `parkinson parkinsons alzheimer alzheimers crohn crohns hodgkin hodgkins non-hodgkin huntington huntingtons addison addisons
  cushing cushings graves hashimoto hashimotos raynaud raynauds sjogren sjögren sjogrens tourette tourettes asperger aspergers
  kawasaki guillain barre barré bell bells lyme wilson wilsons kaposi kaposis apgar glasgow framingham wells gleason epworth
  karnofsky ranson pugh meld nyha killip babinski romberg murphy mcburney homan homans trendelenburg valsalva heimlich
  whipple nissen roux billroth bankart colles smith barton galeazzi monteggia salter harris weber lisfranc jones
  down edwards patau turner klinefelter marfan ehlers danlos tay sachs gaucher fabry pompe niemann pick wernicke korsakoff
  bence creutzfeldt jakob lou gehrig gehrigs duchenne becker charcot marie tooth osgood schlatter legg calve perthes
  paget pagets peyronie dupuytren barrett barretts zollinger ellison mallory weiss boerhaave meckel meckels hirschprung
  hirschsprung kussmaul cheyne stokes korotkoff virchow virchows starling frank stevens johnson reye reyes bell's
  munchausen tetralogy fallot eisenmenger ebstein takayasu buerger wegener churg strauss behcet behçet still stills
  foley hoyer kaplan meier bonferroni fisher student pearson spearman cochrane mantel haenszel cox hamilton beck likert braden morse
  nexus canadian ottawa centor duke rockall blatchford caprini padua geneva perc curb child`
    .split(/\s+/)
    .filter(Boolean),
);

// Before an eponym's word, these say a person or a place is meant after all ("lives in Framingham").
const PERSON_OR_PLACE_BEFORE = /\b(?:in|from|near|to|at|of|lives in|born in|moved to|dr|mr|mrs|ms|prof)\.?\s$/i;

/** True when text[start, end) names a disease, score or test rather than a person or place. */
export function isEponym(text: string, start: number, end: number): boolean {
  if (HEAD_AFTER.test(text.slice(end, end + 48))) return true;
  const words = text
    .slice(start, end)
    .toLowerCase()
    .split(/[\s-]+/);
  if (!words.every((w) => EPONYMS.has(w.replace(/['’]s?$/, '')))) return false;
  return !PERSON_OR_PLACE_BEFORE.test(text.slice(Math.max(0, start - 12), start));
}
