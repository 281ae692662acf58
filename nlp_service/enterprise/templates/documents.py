"""Templates for the documents agent: extracting data from and generating documents.

Business documents (invoices, contracts, offer letters, W-2s); a poem, a birthday card or
a shopping list is out of scope (see ``oos``).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "documents.extract": (
        "extract the (total|line items|due date) from (this|the attached) {document_type}",
        "pull the (totals|amounts|dates) out of {invoice_id}",
        "read the {document_type} from {vendor} and (get|extract) the (total|amount|payment terms)",
        "OCR (this|the attached|the uploaded) {document_type}",
        "(get|grab) the (signature date|parties|renewal date) from the {vendor} {document_type}",
        "parse the {document_type} (I|we) (just|) uploaded",
        "what's the (total|invoice number|due date) on the attached {document_type}",
        "extract (fields|data) from the {document_type} dated {date:on}",
        "scan the {document_type} and pull out the (key terms|vendor details|amounts)",
        "(capture|digitize) the {document_type} from {vendor}",
        "extract (all|the) tables from the {document_type}",
        "get the (salary|start date|job title) from the {document_type:hr} for {employee}",
        "document extraction: {document_type}, {vendor}",
        "pull the bank details from the {vendor} {document_type}",
        "read {invoice_id} and tell me the (amount|due date|vendor)",
        "turn the scanned {document_type} into structured fields",
        "(get|pull) the (amount|total|due date) (off|from) (this|the) {document_type}",
        "(read|scan) (this|the attached) {document_type} and (fill in|populate) the (fields|form)",
        "what is the (termination clause|renewal date|notice period) in the {vendor} {document_type}",
        "(extract|pull out) the (line items|invoice lines) from {invoice_id}",
        "(find|get) the (PO number|invoice number|bank account) on (this|the) {document_type}",
        "(copy|pull) the data from the (scanned|attached|uploaded) {document_type} into {system}",
        "(summarize|pull the key terms from) (the|this) {document_type} (from {vendor}|)",
        "(extract|get) the (names|addresses|signatures) from (the|this) {document_type}",
        "(how much|what amount) is on the {document_type} from {vendor}",
        "(read|parse) the {document_type} (dated {date:on}|from {vendor}) and give me the (total|terms)",
        "(pull|extract) the (dates|amounts|parties) (out of|from) every {document_type} in {system}",
        "(read|process) the attached PDF and (pull out|grab) the (totals|dates|invoice number)",
        "(grab|extract) the (employer ID|wages|address) from (my|the) {document_type:pay}",
        "(extract|read) the (fields|info|details) (off|from) the {document_type:vendor}",
        "(digitize|scan in) these receipts and pull the amounts",
        "what does the {document_type} (from {vendor}|) say about (payment terms|liability|renewal)",
        "(find|look up) the (expiry date|governing law) in the {document_type:vendor} with {vendor}",
        "(pull|extract) the (vendor name|amount|tax) from the receipt I (uploaded|forwarded)",
        "(read|OCR) {invoice_id} (and|then) (load|enter) the fields into {system}",
        "(convert|turn) (this|the) scanned {document_type} into text",
        "(key|important) dates in the {vendor} {document_type}?",
        "(extract|pull) the (total|amount due) from the {document_type} and (put|enter) it in {system}",
        "(who|which parties) signed the {document_type:vendor} with {vendor}",
        "(read|check) the {document_type:hr} for {employee} and tell me the (start date|salary|title)",
        "(get|extract) the (remit-to|billing) address from {invoice_id}",
        "(pull|extract) (the|all) (clauses|obligations) from the {document_type:vendor} (for|with) {vendor}",
        "data extraction (on|for) the {document_type} from {vendor}, please",
        "(read|scan) the {document_type:pay} and pull out the (totals|tax withheld)",
        "(capture|extract) the header fields from every {document_type} received {date_range:past}",
        # reading what a document says (its governing law, end date, parties) is extraction; whether
        # it is valid or compliant is security.compliance_check
        "what (governing law|jurisdiction) does the {document_type:vendor} (with {vendor}|) (name|use)",
        "(look up|find) (the|what) (payment terms|notice period|auto-renewal clause) in (our|the) "
        "{document_type:vendor} with {vendor}",
        "(I need|need) the (total|amount due|due date) (from|off) (this|that|the) {document_type}",
        "how do I (get|pull) (data|the numbers) out of a scanned {document_type}",
        "(can you|could you) read (this|the attached) PDF (for me|) and (tell me|list) the "
        "(totals|dates|parties)",
        "(just|) (uploaded|attached|sent) {a} {document_type} from {vendor}. (pull out|extract|grab) the "
        "(amount|date|reference number)",
        "read the amount off the (scan|PDF) of {invoice_id}",
        "(photo|picture|pic) of {a} {document_type} attached, (get|read) the (numbers|total|details) "
        "(off it|from it)",
        "(pull|extract) the (fields|data) from (these|the) (scanned|attached) {document_type} into "
        "(a spreadsheet|excel|a table)",
        "OCR (pls|please|this): {document_type} from {vendor}",
        "(find|where is) the (signature|signing date) (in|on) the {document_type:hr} for {employee}",
        "(read|go through) the {document_type:vendor} from {vendor} and (list|pull out) (the|all) "
        "(deadlines|obligations|payment dates)",
        "{document_type} (from {vendor}|), (need|want) the (line items|totals|tax amount) "
        "(extracted|pulled out)",
        "the {document_type:pay} is a scan, (can you|) (read|pull) the (wages|tax|employer details) "
        "(from it|off it)",
        "(turn|convert) (this|the) (scan|image|photo) of {invoice_id} into (data|fields|text)",
        "(index|tag) the key fields (in|on) every {document_type} (from {vendor}|in {system})",
        "(on|by) what date does the {document_type:vendor} with {vendor} (end|renew)",
        "(extract|pull) the (key numbers|main figures|fields) (from|out of) the receipt (photo|scan)",
        "(I have|got) a (stack|pile|folder) of scanned {document_type} (files|PDFs), (can you|) "
        "(pull|extract) the (totals|dates|vendor names)",
        "(what|who) (is|are) the (parties|signatories) (on|in|to) (the|this) {document_type:vendor}",
        "(summarise|summarize) (the|this) {document_type:vendor} (in|into) (a few|three|five) bullet points",
        "(get|extract) the (account number|IBAN|sort code) (off|from) (the|this) {document_type} "
        "(from {vendor}|)",
        "(parse|read) the (table|tables) (in|on) page (two|three|2) of the {document_type}",
        "(what's|how much is) the (VAT|tax) (on|in) (this|the attached) {document_type}",
        "(need|want) the (data|fields|info) (from|in) (this|the) {document_type} (typed up|entered) "
        "(in|into) {system}",
        "(pull|get) the (dates|deadlines) (out of|from) the {document_type:hr} for {employee}",
        "(can|could) you (scan|read) (the|this) {document_type} (from {vendor}|) and tell me "
        "(who signed|when it was signed)",
        "(what does|what's) (it|the document) say? (attached|uploaded) {document_type} "
        "(from {vendor}|dated {date:on})",
        # issue 13, round 3: phrasings from dev-split errors
        # reading a PDF and listing what is in it (dates, totals, names) is extraction
        "(go through|look at) (this|the attached) PDF and (give me|pull out) (the|all the) "
        "(amounts|dates|names)",
        "what (totals|dates|names|amounts) are (in|on) (this|the attached) PDF",
        "(list|give me) the (parties|signatories) (named|listed) in (this|the attached) (PDF|document|scan)",
        "(open|read) the PDF I (sent|forwarded) and (note|write down) the (due dates|amounts|reference "
        "numbers)",
        "(what|which) (dates|deadlines) (are|appear) in the {document_type} from {vendor}",
        # who signed a contract and what law it names are read from it: not audit, not compliance
        "who signed (on behalf of|for) {vendor} (on|in) the {document_type:vendor}",
        "(names|signatures) on the {document_type:vendor} (with|from) {vendor}?",
        "(which|what) (law|jurisdiction|state's law) governs the {document_type:vendor} (with|from) {vendor}",
        "(pull|get) the governing law (clause|section) (out of|from) the {vendor} {document_type:vendor}",
        "what does (clause|section) (7|12|4.2) of the {document_type:vendor} with {vendor} say",
        # issue 13, round 4: phrasings from dev-split errors
        # turning a photo or scan of an invoice into text is extraction, not invoice processing
        "(OCR|transcribe) the (photo|picture|scan) of {invoice_id} (for me|)",
        "(I took|here's) a (photo|picture) of {invoice_id}, (get|pull) the text (out of it|off it)",
        "(make|turn) the (image|jpg|screenshot) of {invoice_id} (searchable|into editable text)",
        "(read|extract) the (text|numbers) from the (image|photo) of {invoice_id} (please|)",
        # digitizing a paper document captures what is in it; "from {vendor}" names the sender
        "(digitise|digitize|scan in) (our|the) (paper|signed|printed) {document_type:vendor} (from|with) "
        "{vendor}",
        "(we|I) only have a paper copy of the {document_type} from {vendor}, (digitize|capture) it",
        "(scan|digitize) and index the {document_type:vendor} (we got|received) from {vendor}",
        # a multi-word vendor right before the document type is all vendor
        "(when|on what date) does the {vendor} {document_type:vendor} (expire|start|renew)?",
        "(pull|list) the deadlines (from|in) the {vendor} {document_type}",
        "(find|get) the (effective date|end date|signing date) (in|of) the {vendor} {document_type}",
        "(the|our) {vendor} {document_type:vendor}: (list the|what are the) (milestones|payment dates)",
        # the document type can end the sentence ("on this memo", "from that receipt")
        "there's (a reference number|an invoice number|a PO number) somewhere on this {document_type}, "
        "(find|pull) it",
        "(read|pull) the (vendor name|account number|total) off (this|that) {document_type}",
        "(what's|what is) the (date|reference) (printed|written) on (this|that) {document_type}",
        # "pdfs", "scans", "files" after a document type are plain words
        "(extract|pull) the (totals|amounts|dates) from (these|the) {document_type} (scans|PDFs|images)",
        "(I|we) (have|got) (a few|a bunch of|twenty) {document_type} (pdfs|scans|photos), (read|OCR) them",
        "{document_type} (scans|PDFs) (attached|uploaded), (pull|extract) the (line items|totals)",
    ),
    "documents.generate": (
        "generate {a} {document_type} for {employee}",
        "(draft|create|prepare) {a} {document_type} for {vendor}",
        "make {a} {document_type} (dated {date:on}|)",
        "I need {a} {document_type} for the new {role:job}",
        "write up {a} {document_type} for {employee} (starting {date}|)",
        "produce {a} {document_type} for {amount} to {vendor}",
        "generate the {document_type} template for {department}",
        "draft {a} {document_type:vendor} between us and {vendor}",
        "(can you|could you|) put together {a} {document_type} (for {employee}|)",
        "fill out {a} {document_type} for {employee}",
        "new {document_type} for {vendor} please",
        "create a PDF {document_type} for {vendor} (worth|totalling) {amount}",
        "issue {a} {document_type} to {employee}",
        "document request: {document_type} for {employee}",
        "render {a} {document_type} from the (standard|default) template",
        "mail merge {a} {document_type} for everyone in {department}",
        "(draft|write|create) {a} {document_type:hr} for {employee} (effective {date:on}|)",
        "(need|I need) {a} {document_type:vendor} (for|with) {vendor} (by {date}|)",
        "(fill in|fill out|complete) the {document_type} template for {vendor}",
        "(can|could) you (draft|prepare|write up) {a} {document_type:hr} for {employee} in {department}",
        "(generate|create) {a} {document_type} (of|for) {amount} (for|to) {vendor}",
        "(produce|print) {a} {document_type} (for|covering) {period}",
        "(make|generate) a PDF of the {document_type} for {vendor}",
        "(generate|create) the {document_type:pay} for {employee} (for {period}|)",
        "(new|blank) {document_type} (for|with) {vendor}",
        "(prepare|draft) the {document_type} and (send|email) it to {email}",
        "(need|want) {a} {document_type} drawn up (for|between us and) {vendor}",
        "use the (standard|legal) template to (draft|create) {a} {document_type:vendor} for {vendor}",
        "(write|compose) {a} {document_type:hr} confirming the (start date|salary|terms) for {employee}",
        "(draft|generate) {a} {document_type}",
        "(create|prepare) {a} {document_type:hr} for {employee} (with|at) a salary of {amount}",
        "(can I get|I'd like) {a} {document_type:hr} (for my mortgage application|for my visa|for the bank)",
        "(generate|build) the {document_type:vendor} for {vendor} (starting|effective) {date}",
        "(draft|prepare) {a} {document_type} for {vendor} (in {currency}|)",
        "(make|create) {a} {document_type} for {quantity} units of {sku}",
        "(produce|generate) {a} {document_type:hr} for {employee} (leaving|starting) {date}",
        "(write|draft) {a} {document_type} (to|for) {vendor} about <topic>",
        "(turn|convert) these notes into {a} {document_type}",
        "(generate|create) {a} {document_type} (for|from) {po_number}",
        "(create|send out) {a} {document_type} for each (contractor|vendor) in {department}",
        "(please|) (print|generate) (a|the) {document_type} (for|with) {vendor} (dated {date:on}|)",
        "I need (a|the) letter confirming my employment",
        "(spin up|whip up) {a} {document_type:hr} for {employee}",
        "(write|generate) the {document_type} for {employee} and attach it to {request_id}",
        "(auto-generate|generate) {a} {document_type} (for|from) {invoice_id}",
        # a letter, contract or form is produced; "draft ... then email it" is still a document, and
        # proof of employment for a landlord is a letter, not a payroll question
        "(can I get|I need|need) a letter (confirming|verifying) my (employment|job|salary) "
        "(for my landlord|for my apartment|for my visa application)",
        "(my landlord|the bank|the embassy) (needs|wants|is asking for) (proof|a letter) "
        "(that I work here|of my employment), (can you|) (generate|write|make) one",
        "(write|generate|produce) a letter (confirming|stating) (that|) {employee} works here "
        "(as {a} {role:job}|)",
        "(proof of employment|job confirmation) letter for {employee} (please|)",
        "(how do I|where can I) (get|request) {a} {document_type:hr} (generated|drawn up)",
        "(draft|write) {a} {document_type:hr} for {employee}, then (email|send) (it|the PDF) to {email}",
        "(we hired|we're hiring) {employee} as {a} {role:job}. (need|I need) the {document_type:hr} "
        "(drawn up|written|generated)",
        "(fill in|complete) a (blank|standard) {document_type:vendor} with {vendor} (details|info) and "
        "(make|export) a PDF",
        "(write|draft) {a} {document_type:hr} offering {employee} {amount} (a year|per year|annually)",
        "(I'd like|I want) you to (draft|write) {a} {document_type:hr} for {employee} (in {department}|), "
        "(effective|dated) {date}",
        "(put|get) the {document_type:vendor} for {vendor} (on|onto) (our|the company) (letterhead|template)",
        "(draft|generate) {a} {document_type:vendor} for {vendor} (covering|for) {period} (at|worth) "
        "{amount}",
        "(create|make) a (printable|signed) {document_type:hr} (for|to give) {employee}",
        "(legal|procurement) (asked|wants) me to (get|have) {a} {document_type:vendor} (drafted|generated) "
        "for {vendor}",
        "(need|we need) {a} {document_type:vendor} with {vendor} before (we|they) can start "
        "(work|the project)",
        "{document_type:vendor} for {vendor}, (standard|usual) terms, (pls|please)",
        "(could you|can you) (help me|) (write|prepare) {a} {document_type:vendor} for {vendor}? "
        "(never done one before|first time doing this)",
        "(throw together|knock together) {a} {document_type:vendor} for {vendor}, nothing fancy",
        "(prepare|generate) the paperwork for {employee} (joining|leaving) {department}: {a} "
        "{document_type:hr}",
        "(write|draft) {a} {document_type:hr} (for|about) {employee} (that I can|I can) (sign|send them)",
        "(create|generate) (a signed|an official) letter (confirming|stating) {employee} (left|leaves) on "
        "{date:on}",
        "not an email, I need an actual {document_type:hr} (for {employee}|) (as a PDF|to print)",
        "(turn|make) (the|our) (standard|usual) {document_type:vendor} into one for {vendor} "
        "(dated {date:on}|)",
        "{employee} (asked|is asking) for {a} {document_type:hr}, can you (generate|prepare) it",
        "{document_type:hr} (needed|wanted) for {employee}, (they're|she's|he's) leaving {date}",
        "(generate|produce) {a} {document_type:vendor} (in|with amounts in) {currency} for {vendor}",
        "(redo|regenerate) the {document_type:vendor} for {vendor} with the new (amount|dates|terms)",
        "(create|draft) {a} {document_type:hr} for every new {role:job} (starting {date}|in {department})",
        # issue 13, round 3: phrasings from dev-split errors
        # a document for someone who is leaving is still a document to produce, not offboarding
        "(get|have) {a} {document_type:hr} ready for {employee} before (their|her|his) last day (on "
        "{date:on}|)",
        "{employee} (finishes|wraps up) {date}, (please|) (draw up|write) {a} {document_type:hr} for "
        "(them|her|him)",
        "(need|I need) {a} {document_type} for {employee} (by|before) {date}",
        "{document_type} for {employee} (pls|please|asap)",
        # redoing a document with new figures regenerates it; it is not a rollback or a data transform
        "(reissue|refresh|rework) the {document_type} for {vendor} (with|using) the "
        "(corrected|updated|revised) (figures|amounts|dates)",
        "(update|revise) the {document_type:vendor} for {vendor} to (reflect|show) the new "
        "(price|dates|amount) and (send|export) a (fresh|new) PDF",
        "(the|our) {document_type:vendor} with {vendor} has the wrong (amount|dates), (make|generate) a "
        "(corrected|new) (version|copy)",
        "(generate|make|create) a (fresh|new) copy of the {document_type} for {employee}",
        # a document made from an invoice or a PO is generation, not invoice processing
        "(create|make) {a} {document_type} based on {invoice_id}",
        "(turn|convert) {invoice_id} into {a} {document_type}",
        "(produce|issue) {a} {document_type} (against|off) {po_number}",
        # issue 13, round 4: phrasings from dev-split errors
        # a document made out of an invoice: the document type at the end is tagged
        "(make|generate) {a} {document_type} out of {invoice_id}",
        "(recreate|redo) {invoice_id} as {a} {document_type} (for {vendor}|)",
        "(copy|clone) {invoice_id} into a new {document_type} (for {vendor}|)",
        "(use|take) {invoice_id} as the (basis|starting point) for {a} {document_type}",
        # a terse "<document> for <vendor>, standard terms" asks for a new document
        "{document_type:vendor} (needed|wanted) for {vendor}, (our|the) (standard|default) "
        "(template|wording)",
        "(quick one|ok so|so), {a} {document_type:vendor} (with|for) {vendor} on (our|the) (usual|standard) "
        "terms",
        "(new|fresh) {document_type:vendor} (for|with) {vendor} (please|pls), "
        "(boilerplate terms|nothing custom)",
        "(same terms as last time|usual boilerplate), {document_type:vendor} for {vendor}",
        "(my boss|the client|our lawyer) wants {a} {document_type:vendor} (drawn up|drafted) for {vendor}",
        # a PDF of a document is generated; the document type after "of the" is tagged
        "(export|print|save) the {document_type} for {vendor} (as|to) (a PDF|PDF)",
        "(I need|need|can I get) a PDF version of the {document_type} (for|addressed to) {vendor}",
        "(render|produce) the {document_type} for {employee} as a PDF",
        "(send me|get me) the {document_type} for {vendor} as a (PDF|printable PDF) (please|)",
        # a copy or duplicate of a document for someone is generated again
        "(reprint|reissue|regenerate) the {document_type} for {employee}, (they|she|he) lost the "
        "(original|first one)",
        "(I need|need) (another|a second|a duplicate) copy of the {document_type} (for|made out to) "
        "{employee}",
        "(produce|print) a duplicate {document_type} for {employee}",
        "(make|create) a replacement {document_type} for {vendor}",
    ),
}
