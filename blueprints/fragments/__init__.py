"""Each kind of live region, with one home per area.

An area module holds, for each of its region kinds, the id pattern, the context builder,
the partial it renders and which events touch it; who receives it is asked of core.access
(`access.audience`). Pages render their regions through the same module, and the live
engine (blueprints/live) reaches the areas only through `registry`.

- `catalog`: offers, product rows and facts, stock, photos, promotions
- `orders`: orders and carts, with the order document of both faces
- `quotes`: quotes, with the quote document of both faces
- `conversations`: the messages of a quote's or an order's conversation (both faces)
- `billing`: invoices and balances, with the invoice document of both faces
- `shipments`: an order's shipments and their tracking, with the delivery note of both faces
- `customers`: companies, their terms and accounts, customer groups and their price lists
- `delivery`: a company's address book (both faces), the shipping methods list
- `imports`: the progress of CSV imports, and one's list of them
- `lists`: a company's shared lists (requisition lists, bills of materials)
- `explain`: the price explainer's result
- `people`: the staff users, the roles, a company's own people
- `administration`: the settings page's sections, the audit log
- `reports`: the financial reports' figures and charts
- `navigation`: the module navigation
- `tasks`: one's own tasks, and a customer's, quote's or order's open tasks
- `work_queue`: the overview's counts of what waits (orders, quotes, invoices, stock)

Importing this package registers every kind (the application factory does).
"""

from . import (  # noqa: F401  (each area registers its region kinds on import)
    administration,
    billing,
    catalog,
    conversations,
    customers,
    delivery,
    explain,
    imports,
    lists,
    navigation,
    orders,
    people,
    quotes,
    reports,
    shipments,
    tasks,
    work_queue,
)
