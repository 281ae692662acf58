"""Closed value lists for the entity types that are names rather than formatted ids.

The lists are long enough that the model has to learn the *context* of an entity rather
than memorise its values, and every fourth value is held out of training (see
``values.split_values``) so that dev and test also measure unseen values. Values never
end in punctuation and never contain parentheses, so that a value's characters always
form whole words under ``nlp_service.text.words.split_words``.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Dana", "Priya", "Marcus", "Elena", "Tom", "Aisha", "Kenji", "Sofia", "Liam", "Fatima",
    "Noah", "Chloe", "Raj", "Olivia", "Mateo", "Hannah", "Wei", "Grace", "Omar", "Isabel",
    "Lucas", "Mia", "Diego", "Emma", "Yusuf", "Zoe", "Arjun", "Nina", "Samuel", "Leah",
    "Carlos", "Ava", "Hiroshi", "Ines", "Ben", "Amara", "Felix", "Julia", "Kwame", "Sara",
    "Ethan", "Maya", "Ivan", "Lena", "Jamal", "Rosa", "Oscar", "Anika", "Pedro", "Claire",
    "Tariq", "Helen", "Viktor", "Nadia", "Jonas", "Ruth", "Andre", "Mei", "Patrick", "Leila",
    "Gabriel", "Tess", "Musa", "Ingrid", "Kevin", "Alice",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Patel", "Nguyen", "Garcia", "Okafor", "Kim", "Muller", "Rossi", "Johnson", "Chen",
    "Silva", "Kowalski", "Haddad", "Tanaka", "Brown", "Ivanova", "Martin", "Singh", "Lopez", "Berg",
    "Novak", "Adeyemi", "Cohen", "Fischer", "Walker", "Moreau", "Sato", "Dubois", "Larsen", "Reyes",
    "Khan", "Schmidt", "Murphy", "Costa", "Yamamoto", "Hughes", "Petrov", "Mensah", "Olsen", "Park",
    "Wright", "Ali", "Jensen", "Romero", "Becker", "Ortiz", "Lindqvist", "Baker",
)  # fmt: skip

VENDORS: tuple[str, ...] = (
    "Acme Corp", "Globex", "Initech Ltd", "Umbrella Supplies", "Stark Industries", "Wayne Enterprises",
    "Hooli", "Vandelay Industries", "Cyberdyne Systems", "Tyrell Corp", "Northwind Traders",
    "Contoso Ltd", "Fabrikam", "Tailspin Toys", "Adventure Works", "Litware Inc", "Wide World Importers",
    "Proseware", "Fourth Coffee", "Lucerne Publishing", "Alpine Ski House", "Zenith Logistics",
    "Brightline Packaging", "Keystone Office Supply", "Summit Freight", "Harbor Electric",
    "Redwood Analytics", "Atlas Paper Co", "Pinnacle IT Services", "Evergreen Facilities",
    "Quantum Labs", "Sterling Legal LLP", "Orion Cloud", "Cascade Water", "BluePeak Consulting",
    "Ironclad Security", "Meridian Staffing", "Nimbus Hosting", "Granite Builders", "Sunrise Catering",
    "Vertex Print", "Polaris Telecom", "Silverline Couriers", "Oakridge Furniture", "Beacon Insurance",
    "Helix Biotech", "Crestview Media", "Falcon Freight GmbH", "Lumen Energy", "Pacific Rim Traders",
    "Nordic Steel AB", "Maple Leaf Foods", "Riverbend Software", "Copperfield Tools",
    # appended (see SYSTEMS)
    "Apex Fabrication", "Birchwood Supply Co", "Cobalt Networks", "Delta Office Solutions",
    "Emerald Printing", "Foxglove Design Studio", "Greenfield Janitorial", "Highland Timber",
    "Indigo Marketing Group", "Juniper Legal", "Kestrel Aviation Services", "Lighthouse Translations",
    "Monarch Hardware", "Nexus Data Partners", "Obsidian Security Group", "Peregrine Travel",
    "Quarry Stone Ltd", "Rosewood Interiors", "Saffron Foods", "Tidewater Shipping", "Ultramarine Labs",
    "Valiant Couriers", "Westbrook Electrical", "Yellowstone Outfitters", "Zephyr Cleaning Services",
    "Aurora Medical Supply", "Clearwater Plumbing", "Driftwood Events", "Ember Analytics",
    "Fernhill Nurseries", "Golden Gate Movers", "Hawthorne Accounting LLP", "Jetstream Freight",
    "Kingfisher Components", "Larkspur Media", "Mosaic Staffing", "Northgate Facilities",
    "Opal Payments", "Prism Software GmbH", "Ridgeline Construction", "Sequoia Tech Partners",
    "Thornbury Insurance", "Upland Dairy", "Verdant Landscaping", "Xenon Lighting", "Yarrow Health",
)  # fmt: skip

DEPARTMENTS: tuple[str, ...] = (
    "finance", "HR", "engineering", "sales", "marketing", "legal", "operations", "customer support",
    "IT", "procurement", "facilities", "product", "design", "data science", "security", "compliance",
    "accounting", "R&D", "logistics", "QA", "payroll", "customer success", "business development",
    "internal audit", "treasury", "the platform team", "the warehouse team", "infrastructure",
    # appended (see SYSTEMS)
    "people ops", "revenue operations", "sales ops", "field service", "investor relations",
    "corporate communications", "strategy", "partnerships", "the data platform team", "the mobile team",
    "IT operations", "site reliability", "talent acquisition", "learning and development", "supply chain",
    "customer experience", "public relations", "the executive team", "manufacturing", "analytics",
    "the sales engineering team", "workplace services", "inside sales", "channel sales",
    "the solutions team", "corporate development", "the security operations team",
    # appended in the fourth round (see SYSTEMS)
    "accounts receivable", "FP&A", "the legal team", "customer care",
    "IT security", "risk management", "quality assurance", "the design team",
    "brand marketing", "growth marketing", "product marketing", "demand generation", "the web team",
    "the data team", "business intelligence", "the finance team", "the devops team",
    "enterprise sales", "the SMB team", "customer onboarding", "professional services", "the PMO",
    "the front office", "the back office", "employee relations", "total rewards",
    "global mobility", "the fleet team", "quality control", "the production team",
    "shipping and receiving", "the distribution center team", "the billing team", "collections",
    "vendor management", "the audit committee", "the records team", "network operations",
    "the NOC", "the SOC", "platform engineering", "the backend team", "the frontend team",
    "the ML team", "clinical operations", "regulatory affairs", "government relations",
    "the events team", "the localization team", "sales enablement", "the reception team",
)  # fmt: skip

ROLES: tuple[str, ...] = (
    "senior engineer", "software engineer", "account executive", "product manager", "data analyst",
    "sales manager", "HR generalist", "warehouse associate", "controller", "intern", "contractor",
    "VP of sales", "staff accountant", "support agent", "engineering manager", "recruiter",
    "office manager", "devops engineer", "UX designer", "financial analyst", "team lead",
    "admin", "read-only", "editor", "viewer", "owner", "superuser", "billing admin", "contributor",
    "maintainer", "approver", "auditor", "read-write", "guest",
)  # fmt: skip

SYSTEMS: tuple[str, ...] = (
    "SAP", "Salesforce", "the finance share", "Jira", "VPN", "Workday", "NetSuite", "GitHub",
    "Confluence", "Slack", "ServiceNow", "Okta", "AWS", "the production database", "Snowflake",
    "Tableau", "HubSpot", "Zendesk", "the data warehouse", "QuickBooks", "the CRM", "the ERP",
    "Google Drive", "SharePoint", "Kubernetes", "the payments API", "the billing service",
    "the email server", "Oracle", "Looker", "BambooHR", "Shopify", "Stripe", "the S3 bucket",
    "Datadog", "Grafana", "Kafka", "the HR portal", "the customer portal", "the staging cluster",
    "the checkout service", "Postgres", "the auth service", "Xero", "Marketo", "the inventory service",
    # added after the first 46: the split holds out every fourth value by index, so appending keeps
    # the earlier held-out values held out and earlier test sentences comparable
    "Asana", "Trello", "Notion", "Dropbox", "Monday.com", "Freshdesk", "Splunk", "PagerDuty",
    "New Relic", "Azure", "Google Cloud", "BigQuery", "Redshift", "Databricks", "Airflow", "Power BI",
    "ADP", "Gusto", "Rippling", "Concur", "Coupa", "Ariba", "Dynamics 365", "Zoho", "Pipedrive", "Twilio",
    "Mailchimp", "GitLab", "Bitbucket", "Jenkins", "CircleCI", "Auth0", "CrowdStrike", "Cloudflare",
    "MongoDB", "MySQL", "Elasticsearch", "Sentry", "Figma", "Smartsheet", "Airtable", "DocuSign",
    "the wiki", "the data lake", "the SFTP server", "the file server", "the CI pipeline",
    "the payroll system", "the ticketing system", "the mobile app", "the reporting database",
    "the order service", "the search cluster",
    # appended in the fourth round (see SYSTEMS)
    "Microsoft Teams", "OneDrive", "Miro", "ClickUp",
    "Intercom Help Desk", "Gong", "Outreach", "Amplitude", "Mixpanel",
    "Fivetran", "dbt Cloud", "Metabase", "Redash", "Terraform Cloud", "Argo CD", "Prometheus",
    "Opsgenie", "Statuspage", "Workiva", "Anaplan", "Expensify", "Bill.com", "Brex",
    "Greenhouse", "Lattice", "Culture Amp", "Namely", "Paylocity", "UKG", "Ceridian",
    "Epicor", "Sage Intacct", "Infor", "Odoo", "Magento", "WooCommerce", "BigCommerce", "ShipStation",
    "Zscaler", "SentinelOne", "1Password", "LastPass", "JumpCloud", "Jamf",
    "the VPN gateway", "the SSO portal", "the expense tool", "the procurement portal", "the ERP sandbox",
    "the analytics cluster", "the message queue", "the backup server", "the build server",
    "the time tracking system", "the LMS", "the vendor portal", "the partner portal", "the config service",
)  # fmt: skip

LOCATIONS: tuple[str, ...] = (
    "Warehouse 3", "Berlin", "the Austin warehouse", "Dock B", "Chicago", "Rotterdam", "Warehouse 12",
    "the Dallas DC", "Singapore", "Building 7", "Store 114", "Paris", "London", "Toronto", "Sydney",
    "Mumbai", "Sao Paulo", "the Reno fulfillment center", "Hamburg", "Denver", "Warehouse B",
    "the east depot", "Atlanta", "Madrid", "the Newark hub", "Osaka", "Store 27", "Seattle",
    "the main warehouse", "Lyon", "Aisle 14", "Nairobi",
    # appended (see SYSTEMS)
    "Frankfurt", "Dublin", "Warsaw", "Lisbon", "Bangalore", "Shanghai", "Mexico City", "Johannesburg",
    "Dubai", "Stockholm", "Boston", "Phoenix", "Warehouse 9", "Store 58", "the Memphis DC", "Building 2",
    "the west depot", "the Columbus hub", "Dock C", "Aisle 7", "the Tokyo office", "Vancouver", "Manila",
    "the Leeds plant",
)  # fmt: skip

ROOMS: tuple[str, ...] = (
    "Room 4B", "the Everest room", "Conference Room A", "the Kilimanjaro room", "Room 201", "the boardroom",
    "Huddle Room 3", "the Fuji room", "the large conference room", "the training room", "the Atlas room",
    "Meeting Room 12", "Room 3.14", "the Denali room", "the Orion room", "Room 7C", "the Matterhorn room",
    "the fishbowl", "Conference Room B", "the Blue room", "Room 502", "the Aspen room",
)  # fmt: skip

PRIORITIES: tuple[str, ...] = (
    "P0", "P1", "P2", "P3", "urgent", "high priority", "low priority", "critical", "sev1", "SEV-2",
    "high", "medium", "low", "blocker", "top priority", "normal priority", "sev 3", "P4",
)  # fmt: skip

CHANNELS: tuple[str, ...] = (
    "#ops", "#general", "#eng-alerts", "the engineering channel", "#finance", "the sales channel",
    "#incident-response", "the all-hands channel", "#random", "the support channel", "#release-notes",
    "#devops", "the leadership channel", "#hr-announcements", "#data-team", "the marketing channel",
    "#security", "#warehouse", "the ops channel", "#it-help", "#company-news", "the product channel",
)  # fmt: skip

DOCUMENT_TYPES: tuple[str, ...] = (
    "invoice", "contract", "W-2", "offer letter", "NDA", "receipt", "pay stub", "1099",
    "statement of work", "SOW", "bill of lading", "packing slip", "employment contract",
    "expense report", "termination letter", "reference letter", "quote", "credit note", "MSA",
    "purchase agreement", "tax form", "bank statement", "delivery note", "W-9", "lease agreement",
    "certificate of insurance", "timesheet", "memo",
    # appended in the fourth round (see SYSTEMS)
    "order confirmation", "proforma invoice", "debit note", "remittance advice",
    "change order", "work order", "service agreement", "data processing agreement",
    "customs declaration", "commercial invoice", "certificate of origin", "freight bill",
    "expense receipt", "mileage log", "payroll register", "benefits enrollment form",
    "background check", "performance review", "job description", "policy document",
    "board minutes", "audit report", "1099-NEC", "bank reconciliation",
)  # fmt: skip

# Roles added after the first 34. Job and access roles share ROLES above, split at "admin";
# the additions are kept apart and appended to each list (values.py), so that every earlier
# held-out role stays held out.
MORE_JOB_ROLES: tuple[str, ...] = (
    "customer success manager", "payroll specialist", "site reliability engineer", "marketing coordinator",
    "legal counsel", "procurement officer", "QA engineer", "solutions architect", "business analyst",
    "operations manager", "HR business partner", "sales development rep", "technical writer",
    "data engineer", "executive assistant", "warehouse supervisor", "product designer", "IT technician",
    "security analyst", "chief of staff",
    # appended in the fourth round (see SYSTEMS)
    "accounts payable clerk", "tax manager", "FP&A analyst", "network engineer", "help desk technician",
    "product owner", "scrum master", "release manager", "data scientist", "ML engineer",
    "content strategist", "brand manager", "field technician", "forklift operator", "shift supervisor",
    "inventory planner", "logistics coordinator", "customer support lead", "account manager",
    "compliance officer", "risk analyst", "paralegal", "receptionist", "facilities coordinator",
    "backend engineer", "frontend engineer", "mobile developer", "security engineer",
)  # fmt: skip

MORE_ACCESS_ROLES: tuple[str, ...] = (
    "power user", "reviewer", "reporter", "developer", "operator", "publisher", "moderator",
    "commenter", "full access", "limited access", "team admin", "workspace admin",
    "org admin", "project admin", "billing viewer", "security admin",
    # appended in the fourth round (see SYSTEMS)
    "write access", "admin access", "view-only", "read only", "edit access",
    "collaborator", "analyst access", "approver access", "billing manager", "support access",
    "deploy access", "domain admin", "site owner", "site member", "group owner",
    "project lead", "API access",
)  # fmt: skip

METRICS: tuple[str, ...] = (
    "churn", "MRR", "revenue", "ARR", "gross margin", "NPS", "CSAT", "conversion rate",
    "average order value", "headcount", "burn rate", "DAU", "ticket backlog", "first response time",
    "on-time delivery rate", "inventory turnover", "EBITDA", "CAC", "LTV", "retention", "win rate",
    "pipeline", "bookings", "attrition", "net revenue retention", "cash runway", "days sales outstanding",
    "fill rate", "uptime", "mean time to resolve",
    # appended (see SYSTEMS)
    "operating margin", "net income", "cost per acquisition", "lead velocity", "average handle time",
    "first contact resolution", "employee turnover", "time to hire", "offer acceptance rate",
    "utilization", "backorder rate", "order cycle time", "perfect order rate", "gross bookings",
    "quota attainment", "average deal size", "sales cycle length", "customer effort score",
    "renewal rate", "expansion revenue", "free cash flow", "operating expenses",
    "days payable outstanding", "return rate", "shrinkage", "cost per lead",
    # appended in the fourth round (see SYSTEMS)
    "gross profit", "net margin", "cost of goods sold", "average revenue per user", "churn rate",
    "logo churn", "daily active users", "monthly active users", "session length", "bounce rate",
    "click-through rate", "open rate", "cart abandonment rate", "units sold",
    "inventory days on hand", "carrying cost", "freight cost per unit", "on-time shipment rate",
    "pick accuracy", "mean time to detect", "p95 latency",
    "incident count", "change failure rate", "deployment frequency", "ticket volume",
    "resolution rate", "escalation rate", "SLA breach rate", "absenteeism",
    "cost per hire", "revenue per employee", "payroll cost", "accounts receivable turnover",
    "quick ratio", "current ratio", "budget variance", "forecast accuracy", "pipeline coverage",
    "lead conversion rate", "customer lifetime value", "gross retention", "referral rate",
)  # fmt: skip

REPORT_NAMES: tuple[str, ...] = (
    "weekly sales report", "monthly P&L", "pipeline report", "AR aging report", "headcount report",
    "churn analysis", "inventory valuation report", "expense summary", "customer satisfaction report",
    "marketing funnel report", "daily ops dashboard", "cash flow statement", "budget vs actuals",
    "vendor spend report", "ticket volume report", "SLA compliance report", "payroll summary",
    "open PO report", "regional sales breakdown", "uptime report", "board pack", "quarterly business review",
    "AP aging report", "hiring funnel report", "stock level report", "revenue forecast",
    # appended (see SYSTEMS)
    "weekly ops review", "month-end close report", "sales by region report", "customer churn report",
    "supplier scorecard", "backlog report", "utilization report", "travel spend report",
    "open tickets report", "renewals forecast", "inventory aging report", "gross margin report",
    "marketing attribution report", "quarterly headcount plan", "deferred revenue schedule",
    "fixed asset register", "security incident summary",
    # appended in the fourth round (see SYSTEMS)
    "weekly pipeline review", "daily sales summary", "quarterly tax report",
    "annual budget report", "trial balance", "general ledger report", "balance sheet", "income statement",
    "cost center report", "variance report", "purchase order summary", "supplier spend analysis",
    "warehouse throughput report", "shipping performance report", "returns report", "stock movement report",
    "support SLA report", "CSAT trend report", "escalations report", "incident postmortem summary",
    "uptime summary", "access review report", "compliance audit report", "user access report",
    "overtime report", "turnover report", "diversity report", "training completion report",
    "commission report", "bookings report", "win/loss report",
    "churn dashboard", "executive dashboard", "KPI scorecard", "weekly metrics email",
)  # fmt: skip

LEAVE_TYPES: tuple[str, ...] = (
    "vacation", "PTO", "sick leave", "parental leave", "bereavement leave", "annual leave",
    "maternity leave", "paternity leave", "unpaid leave", "comp time", "study leave", "medical leave",
    "volunteer leave", "floating holiday", "holiday", "paid time off", "sick time", "vacation time",
    "personal time", "annual holiday", "personal leave", "compassionate leave",
    # appended in the fourth round (see SYSTEMS)
    "military leave", "sabbatical", "family leave", "medical time off", "wellness day",
    "mental health day", "time in lieu", "shared parental leave", "adoption leave", "day in lieu",
    "emergency leave", "caregiver leave", "birthday leave",
)  # fmt: skip

CURRENCIES: tuple[str, ...] = (
    "euros", "EUR", "GBP", "dollars", "US dollars", "yen", "pounds", "CAD", "Swiss francs", "USD",
    "INR", "rupees", "AUD", "Canadian dollars", "sterling", "CHF", "JPY", "Australian dollars",
)  # fmt: skip

EMAIL_DOMAINS: tuple[str, ...] = (
    "acme.com", "initech.io", "globex.net", "contoso.com", "example.org", "northwind.co.uk",
    "fabrikam.de", "hooli.com", "corp.eas.dev", "stark.industries",
)  # fmt: skip

TEAM_MAILBOXES: tuple[str, ...] = (
    "ops-team", "finance", "ap", "hr", "it-support", "billing", "security", "payroll", "sales", "legal",
)  # fmt: skip
