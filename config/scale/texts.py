"""The words of a generated data set: topics and how their texts evolve, revision by revision,
and what people write in comments, reasons and summaries (all of it already what the services'
cleaning would store: `replay.check_texts` holds that)."""

from __future__ import annotations

import random
from dataclasses import dataclass

PLACES = [
    "Dostyk", "Khorgos", "Kordai", "Zhibek Zholy", "Ak-Zhol", "Torugart", "Irkeshtam", "Dostuk",
    "Kyzyl-Kiya", "Karamyk", "Panji Poyon", "Kulma", "Fotehobod", "Farap", "Serhetabat",
    "Gaudan", "Oybek", "Termez", "Shavgar", "Sariosiyo", "Nur Zholy", "Kairak", "Isfara",
    "Daut-Ata",
]  # fmt: skip


@dataclass(frozen=True)
class Topic:
    title: str
    paragraphs: tuple[str, ...]
    items: tuple[str, ...]


TOPICS = [
    Topic(
        "Joint risk analysis unit at {place}",
        (
            "Border guards and customs officers at {place} set up a **joint risk analysis unit** "
            "that meets every week.",
            "Each agency seconds at least one analyst to the unit for a period of two years.",
            "The unit shares its risk profiles with:\n\n- the national headquarters of both agencies\n"
            "- the neighbouring crossing points",
            "Risk profiles are reviewed every three months against the results of inspections.",
            "The unit uses a common template for risk indicators, agreed by the heads of agency.",
            "Analysts receive joint training on open-source intelligence and data protection.",
            "The unit reports every quarter to the national coordination council.",
        ),
        (
            "the regional customs directorate",
            "the mobile surveillance teams",
            "the EU programme team, in anonymised form",
        ),
    ),
    Topic(
        "Exchange of information on stolen vehicles through {place}",
        (
            "The border services exchange, in real time, alerts on stolen vehicles expected to "
            "cross at {place}.",
            "A contact point in each agency answers requests within two hours, day and night.",
            "Alerts carry only the data needed:\n\n- the registration number\n- the vehicle "
            "identification number\n- the issuing authority",
            "Personal data is deleted six months after the alert is closed.",
            "The exchange uses the secure channel already operated for wanted persons.",
            "Each agency keeps a log of the alerts it sends and receives.",
            "The results are reviewed once a year at a meeting of the contact points.",
        ),
        ("the colour and make of the vehicle", "the date of the theft", "the case reference"),
    ),
    Topic(
        "Common training curriculum on document fraud for {place}",
        (
            "Border and customs academies develop a joint basic curriculum on **document fraud**.",
            "The first course is held for officers serving at {place} and the neighbouring posts.",
            "The curriculum covers:\n\n- security features of travel documents\n- impostors and "
            "look-alikes\n- forged visas and stamps",
            "Trainers from each academy teach together, so that methods converge.",
            "Each officer on the first line attends a refresher course every two years.",
            "The academies share reference collections of genuine and forged documents.",
            "An evaluation after the first year decides whether the curriculum becomes mandatory.",
        ),
        ("fraudulent breeder documents", "digital document checks", "interview techniques"),
    ),
    Topic(
        "Harmonised opening hours at {place}",
        (
            "Both sides of the {place} crossing point open and close at the same hours.",
            "Opening hours are published in the national languages, Russian and English.",
            "Changes to opening hours are announced at least one month in advance.",
            "During harvest season the crossing point opens two hours earlier for agricultural "
            "goods.",
            "Emergency vehicles may cross at any time, after notice by telephone.",
            "The heads of the crossing point on both sides meet every quarter.",
            "Traffic counts before and after the change are compared after one year.",
        ),
        (),
    ),
    Topic(
        "Joint patrols along the green border near {place}",
        (
            "Border guards of both countries patrol the green border near {place} jointly, on "
            "agreed routes.",
            "Each patrol is led by an officer of the country on whose territory it takes place.",
            "Patrols carry:\n\n- compatible radios on an agreed frequency\n- a copy of the "
            "patrol plan in both languages",
            "Incidents are reported to both headquarters within twenty-four hours.",
            "Patrol plans are agreed every month by the heads of the border detachments.",
            "Officers taking part in joint patrols receive joint training on the legal framework.",
            "The arrangement is evaluated after six months of operation.",
        ),
        ("first-aid kits", "night-vision equipment", "maps with the agreed rendezvous points"),
    ),
    Topic(
        "Pre-arrival exchange of customs data for {place}",
        (
            "Customs services exchange data on consignments before they arrive at {place}.",
            "The exporting side sends the transit declaration as soon as it is accepted.",
            "The data exchanged is limited to:\n\n- the declaration reference\n- the goods "
            "description and codes\n- the gross weight",
            "The importing side uses the data for risk analysis before the truck arrives.",
            "Discrepancies found at arrival are reported back to the exporting side.",
            "A technical working group agrees the message format and the security measures.",
            "A pilot runs for six months before the exchange extends to other crossing points.",
        ),
        ("the seal numbers", "the vehicle registration", "the consignor and consignee"),
    ),
    Topic(
        "Single inspection of goods at {place}",
        (
            "Customs, phytosanitary and veterinary controls at {place} take place in **one "
            "inspection**, at one place.",
            "The agencies agree a common schedule so that no consignment waits for a second "
            "inspection.",
            "A single inspection needs:\n\n- one shared inspection area\n- one appointment "
            "system\n- one record of the inspection",
            "The results of one agency's control are accepted by the others.",
            "Inspectors of all agencies receive joint training on sampling.",
            "Waiting times are measured every month and published.",
            "The arrangement is reviewed after one year by the heads of the agencies concerned.",
        ),
        ("a shared cold store", "a joint laboratory request form", "a common complaints procedure"),
    ),
    Topic(
        "Integrity and anti-corruption measures at {place}",
        (
            "Officers at {place} rotate between posts according to a published schedule.",
            "Every officer signs a code of conduct common to the border and customs services.",
            "Travellers can report improper conduct:\n\n- by a free telephone line\n- by an "
            "online form\n- in a sealed box at the crossing point",
            "Reports are handled by an internal security unit independent of the crossing point.",
            "Cash payments at the crossing point are replaced by bank transfers and cards.",
            "The agencies publish every year the number of reports and their outcome.",
            "An external evaluation takes place three years after adoption.",
        ),
        ("a messaging service", "the ombudsman's office"),
    ),
    Topic(
        "Video surveillance of the {place} crossing point",
        (
            "The approaches to {place} are covered by video surveillance on both sides.",
            "Recordings are kept for thirty days and then deleted, unless needed for a case.",
            "Access to recordings is limited to:\n\n- the duty officer\n- the internal security "
            "unit\n- investigators, on written request",
            "Cameras are placed so as not to film private property beyond the crossing point.",
            "Both sides agree on technical standards so that recordings can be exchanged.",
            "Travellers are informed by signs in three languages.",
            "The data protection authority is consulted before the system starts.",
        ),
        ("the prosecutor's office", "the customs enforcement unit"),
    ),
    Topic(
        "Referral of vulnerable persons met at {place}",
        (
            "Officers at {place} identify vulnerable persons and refer them to the competent "
            "services.",
            "A referral form, common to the border and customs services, records each case.",
            "Vulnerable persons include:\n\n- unaccompanied children\n- victims of trafficking\n"
            "- persons seeking international protection",
            "Each crossing point keeps the contacts of the social services and of interpreters.",
            "Officers receive training on interviewing vulnerable persons.",
            "Cases are reviewed every six months with the international organisations concerned.",
            "Statistics on referrals are published every year.",
        ),
        ("persons with disabilities", "elderly travellers without documents"),
    ),
    Topic(
        "Emergency communication between border posts near {place}",
        (
            "Border posts on both sides of {place} keep a direct line open for emergencies.",
            "The line is tested every week at an agreed time.",
            "Emergencies include:\n\n- fires and natural disasters\n- serious accidents\n- "
            "sudden large movements of people",
            "Each post keeps a list of contacts on the other side, updated every month.",
            "Calls are logged with the time, the persons and the action agreed.",
            "A joint exercise takes place once a year.",
            "Lessons learnt from each real emergency are shared with both headquarters.",
        ),
        ("epidemics", "floods on the border river"),
    ),
    Topic(
        "Detection of drugs and precursors at {place}",
        (
            "Customs and border services at {place} share detection equipment and dog teams.",
            "Dog teams of both services train together once a month.",
            "Equipment shared includes:\n\n- ion scanners\n- mobile X-ray units\n- test kits "
            "for precursors",
            "Seizures are reported at once to the national drug control agency.",
            "A common list of precursors to watch is updated every six months.",
            "Officers receive training on the safe handling of seized substances.",
            "The results are presented every year at the regional drug control meeting.",
        ),
        ("endoscopes", "density meters"),
    ),
    Topic(
        "Queue management for trucks at {place}",
        (
            "Trucks book a slot to cross at {place} through one electronic queue shared by "
            "both sides.",
            "The queue is open to carriers of all countries on equal terms.",
            "Carriers see:\n\n- their position in the queue\n- the expected waiting time\n- "
            "the documents they will need",
            "Trucks carrying perishable goods have priority.",
            "The waiting area is equipped with water, sanitation and lighting.",
            "Waiting times are published every day on the agencies' websites.",
            "The system is evaluated after one year with the carriers' associations.",
        ),
        ("the nearest fuel station", "the customs broker on duty"),
    ),
    Topic(
        "Joint contact centre at {place}",
        (
            "Border guards, police and customs of both countries staff a **joint contact "
            "centre** at {place}.",
            "The centre answers requests for information from any of the agencies within one hour.",
            "The centre handles:\n\n- checks of documents and vehicles\n- coordination of joint "
            "operations\n- exchange of liaison officers",
            "Officers keep working under the law and the command of their own agency.",
            "Costs of the premises are shared equally between the two countries.",
            "The centre keeps statistics on the requests it answers.",
            "A joint steering group reviews the centre's work once a year.",
        ),
        ("preparation of joint risk analysis", "language support"),
    ),
]

AMENDMENTS = [
    "This applies from the first day of the next budget year.",
    "The programme team provides technical assistance on request.",
    "Costs are borne by each agency within its existing budget.",
    "National legislation is amended where necessary.",
    "The measure is reviewed twelve months after it starts.",
    "Each agency names a contact person for this measure.",
    "Progress is reported to the steering committee once a year.",
    "The measure follows the EU Integrated Border Management model, adapted to national law.",
    "Agencies of third countries may be invited as observers.",
    "A short guide for officers explains the new procedure.",
    "The arrangement is set out in a written agreement between the agencies.",
    "Data exchanged under this measure is protected as national law requires.",
]

SUBSTITUTIONS = [
    ("every week", "every two weeks"),
    ("every month", "every two months"),
    ("every quarter", "every month"),
    ("every three months", "every six months"),
    ("once a year", "twice a year"),
    ("two years", "three years"),
    ("six months", "twelve months"),
    ("one year", "eighteen months"),
    ("within two hours", "within four hours"),
    ("thirty days", "sixty days"),
    ("at least one", "one or more"),
]

SUMMARIES = [
    "Clarified who does what",
    "Shorter wording",
    "Added a review clause",
    "Took in the comments from the discussion",
    "Precise timetable",
    "Aligned with national law",
    "Added the list agreed at the meeting",
    "Corrected the frequency",
]
EU_SUMMARIES = [
    "Consolidated wording after the workshop",
    "Aligned with the other recommendations of the process",
    "Took in the objections of the addressed agencies",
    "Reference to the EU Integrated Border Management model",
    "Editorial consolidation",
]

REQUEST_CHANGES = [
    "Say which agency leads and who pays.",
    "The timetable is not realistic for our agency; please propose another one.",
    "Name the legal basis in national law.",
    "The text should say how personal data is protected.",
    "Please shorten the text: it repeats the existing agreement.",
]
RETURNS = [
    "The addressed agencies need to review the new obligations at national level.",
    "The consolidated text changes the scope; it needs a new national review.",
    "Two agencies asked for more time to consult their ministries.",
]
WITHDRAWALS = [
    "Covered by the national programme already under way.",
    "Merged into our agency's annual plan instead.",
    "The neighbouring agency could not commit resources this year.",
    "Superseded by the bilateral agreement signed in the meantime.",
]
OBJECTIONS = [
    "The timetable cannot be met before the next budget cycle.",
    "Our agency cannot commit staff on these terms.",
    "The text goes beyond what national law allows; it needs an amendment first.",
    "We need the costs estimated before we can agree.",
    "The data protection safeguards are not sufficient.",
]

COMMENTS = [
    "We support this text as it stands.",
    "Which agency would bear the costs of the equipment?",
    "Could the same arrangement work at {place} during the night shift?",
    "The customs side agrees in principle; our legal department still has to confirm.",
    "Agreed. I will update the wording after the meeting.",
    "Is the timetable realistic for the first review?",
    "The Latvian experience suggests a pilot at {place} first.",
    "Our headquarters would like to see the data protection part strengthened.",
    "Who chairs the meetings: a fixed agency or each in turn?",
    "Could we add a reference to the existing bilateral agreement?",
    "Good point, thank you. I have no further remarks.",
    "The staff at {place} are ready to start as soon as this is adopted.",
    "Please keep the text short: officers on the first line need to understand it quickly.",
    "We tested something similar at {place} last year, with good results.",
    "Does this need the approval of the ministries, or can the agencies decide alone?",
    "I suggest we discuss this at the next coordination meeting.",
    "The translation into Russian should be checked before adoption.",
    "Fine for us. **Please note** that our budget year starts in January.",
    "Can the EU programme team help with the training part?",
    "We would prefer a longer transition period for {place}.",
    "This matches what was agreed in the working group.",
    "One question: does this also apply to rail traffic?",
    "Yes, it does; the wording covers all modes of transport.",
    "No: rail traffic is covered by a separate agreement.",
    "Noted, we will check with the regional office at {place}.",
    "Thank you, that answers our concern.",
    "The figures for {place} are in the annex of the workshop report.",
    "We can provide two trainers for the first course.",
    "The heads of agency discussed this on Tuesday and agree.",
    "Please see the revised paragraph: does it meet your concern?",
]


def fill(template: str, place: str) -> str:
    return template.replace("{place}", place)


def body_versions(topic: Topic, place: str, rng: random.Random, count: int) -> list[str]:
    """How one text evolves, revision by revision; each revision differs from the last."""
    paragraphs = [fill(p, place) for p in topic.paragraphs[:2]]
    pending = [fill(p, place) for p in topic.paragraphs[2:]]
    amendments = rng.sample(AMENDMENTS, len(AMENDMENTS))
    items = list(topic.items)
    versions = ["\n\n".join(paragraphs)]
    while len(versions) < count:
        roll = rng.random()
        lists = [i for i, p in enumerate(paragraphs) if p.startswith("- ") or "\n\n- " in p]
        swaps = [(i, old, new) for i, p in enumerate(paragraphs) for old, new in SUBSTITUTIONS if old in p]
        if pending and roll < 0.4:
            paragraphs.append(pending.pop(0))
        elif items and lists and roll < 0.5:
            i = rng.choice(lists)
            paragraphs[i] += "\n- " + items.pop(0)
        elif swaps and roll < 0.75:
            i, old, new = rng.choice(swaps)
            paragraphs[i] = paragraphs[i].replace(old, new, 1)
        elif amendments:
            i = rng.randrange(len(paragraphs))
            if paragraphs[i].startswith("- ") or "\n\n- " in paragraphs[i]:
                paragraphs.append(amendments.pop())
            else:
                paragraphs[i] += " " + amendments.pop()
        else:
            paragraphs.append(f"Point {len(versions) + 1} of the workshop conclusions applies in full.")
        body = "\n\n".join(paragraphs)
        if body != versions[-1]:
            versions.append(body)
    return versions
