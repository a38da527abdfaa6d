"""Item names for iGSM's four categorizations (our own lists, in the spirit of the paper's)."""

CATEGORIZATIONS: list[tuple[str, str, str, str]] = [
    ("District", "Supermarket", "Product", "Ingredient"),
    ("Zoo", "Enclosure", "Animal", "Bone"),
    ("School", "Classroom", "Backpack", "Stationery"),
    ("Ecosystems", "Creatures", "Organs", "Cells"),
]

NAMES: dict[str, dict[str, list[str]]] = {
    # ------------------------------------------------------------------ 0
    "District": {
        "Educational": [
            "School District", "Arts Campus", "University Quarter", "College Town",
            "Academy Row", "Scholar Heights", "Library Square", "Campus Commons",
            "Learning Park", "Science Park", "Research Hill", "Mentor Village",
            "Student Quarter", "Seminary Hill", "Tutor Lane", "Knowledge Park",
            "Lecture Green", "Graduate Village", "Faculty Row", "Academic Mile",
        ],
        "Residential": [
            "Maple Grove", "Oak Hollow", "Cedar Heights", "Willow Bend",
            "Pine Ridge", "Birch Meadows", "Elm Park", "Aspen Glen",
            "Hawthorn Estates", "Linden Hills", "Rosewood Terrace", "Briarwood",
            "Foxwood Gardens", "Laurel Crest", "Juniper Court", "Sycamore Vale",
            "Magnolia Place", "Chestnut Hill", "Hazel Dell", "Poplar Green",
        ],
        "Commercial": [
            "Market Square", "Trade Center", "Harbor Front", "Merchant Row",
            "Banking Quarter", "Exchange Plaza", "Commerce Park", "Shopping Mile",
            "Bazaar Street", "Retail Park", "Financial Core", "Midtown Plaza",
            "Union Square", "Downtown Core", "Gallery Row", "Fashion Avenue",
            "Business Park", "Old Market", "Arcade Quarter", "Crossroads Center",
        ],
        "Industrial": [
            "Mill District", "Foundry Flats", "Dockyard", "Steelworks",
            "Factory Row", "Refinery Point", "Railyard", "Warehouse Quarter",
            "Canal Works", "Ironside", "Brickworks", "Tannery Lane",
            "Shipyard Basin", "Copper Flats", "Quarry Hill", "Textile Quarter",
            "Lumber Yard", "Gasworks", "Kiln Row", "Smelter Bay",
        ],
        "Recreational": [
            "Lakeside Park", "Riverside Green", "Festival Grounds", "Stadium District",
            "Marina Point", "Boardwalk", "Fairground", "Golf Links",
            "Harbor Park", "Sunset Shore", "Garden Quarter", "Theatre District",
            "Arena Quarter", "Pleasure Pier", "Botanic Hill", "Canyon Trails",
            "Meadow Commons", "Skatepark Row", "Carnival Square", "Regatta Bay",
        ],
    },
    "Supermarket": {
        "Health-food": [
            "Whole Harvest Market", "Fresh Fields Grocer", "Green Leaf Foods", "Vital Greens",
            "Pure Pantry", "Nature Basket", "Sprout Market", "Good Earth Grocer",
            "Wellness Mart", "Living Foods", "Sunrise Organics", "Wholesome Way",
            "Clean Plate Market", "Garden Fresh", "Vitality Market", "Harvest Moon Foods",
            "Bright Root Market", "Seed Barn", "Golden Grain Grocer", "Evergreen Pantry",
        ],
        "Discount": [
            "Save Mart", "Budget Basket", "Penny Pantry", "Thrifty Cart",
            "Bargain Barn", "Dollar Grocer", "Price Cutter", "Low Cost Foods",
            "Smart Saver", "Deal Depot", "Cheap Eats Market", "Frugal Foods",
            "Bulk Buy", "Savings Corner", "Market Saver", "Pocket Grocer",
            "Discount Depot", "Half Price Foods", "Econo Mart", "Thrift Pantry",
        ],
        "Gourmet": [
            "Fine Fare", "Epicure Market", "Gilded Fork", "Truffle Table",
            "Artisan Grocer", "Silver Spoon Market", "Delicacy Hall", "Connoisseur Foods",
            "Saffron Market", "Velvet Larder", "Bistro Pantry", "Gourmet Gallery",
            "Chef Select", "Noble Larder", "Crown Provisions", "Prime Pantry",
            "Savory Lane", "Golden Spoon", "Tasting Room Market", "Heritage Provisions",
        ],
        "Neighborhood": [
            "Corner Grocer", "Main Street Market", "Village Store", "Hometown Foods",
            "Family Grocer", "Friendly Market", "Town Pantry", "Local Larder",
            "Block Market", "Community Foods", "Daily Basket", "Neighbor Market",
            "Hillside Grocer", "Parkside Market", "Porch Pantry", "Kindly Grocer",
            "Cozy Corner Foods", "Maple Street Market", "Home Pantry", "Streetside Grocer",
        ],
        "Wholesale": [
            "Bulk Warehouse", "Cash Depot", "Depot Foods", "Wholesale Club",
            "Mega Mart", "Pallet Market", "Jumbo Foods", "Big Box Grocer",
            "Crate Market", "Stockpile Foods", "Trade Depot", "Giant Grocer",
            "Mass Market Foods", "Warehouse Foods", "Case Lot Market", "Titan Foods",
            "Grand Depot", "Supply Hub", "Bulk Barn", "Volume Foods",
        ],
    },
    "Product": {
        "Dairy": [
            "Cheese", "Ice Cream", "Goat Cheese", "Parmesan Cheese",
            "Cheddar Cheese", "Yogurt", "Butter", "Cream Cheese",
            "Sour Cream", "Cottage Cheese", "Buttermilk", "Whipped Cream",
            "Mozzarella", "Brie", "Greek Yogurt", "Kefir",
            "Ghee", "Ricotta", "Feta", "Skim Milk",
        ],
        "Bakery": [
            "Bagel", "Baguette", "Croissant", "Sourdough Loaf",
            "Rye Bread", "Muffin", "Cinnamon Roll", "Pita Bread",
            "Brioche", "Scone", "Danish Pastry", "Ciabatta",
            "Focaccia", "Pretzel Roll", "Dinner Roll", "Crumpet",
            "Doughnut", "Pound Cake", "Apple Pie", "Cupcake",
        ],
        "Frozen": [
            "Frozen Pizza", "Fish Sticks", "Frozen Waffles", "Ice Pops",
            "Frozen Peas", "Tater Tots", "Frozen Dumplings", "Chicken Nuggets",
            "Frozen Burritos", "Sorbet", "Gelato", "Frozen Lasagna",
            "Veggie Burgers", "Frozen Berries", "Frozen Yogurt", "Pot Pie",
            "Frozen Shrimp", "Spring Rolls", "Hash Browns", "Frozen Custard",
        ],
        "Beverages": [
            "Orange Juice", "Lemonade", "Iced Tea", "Cola",
            "Ginger Ale", "Root Beer", "Sparkling Water", "Cold Brew",
            "Apple Cider", "Grape Juice", "Energy Drink", "Sports Drink",
            "Kombucha", "Coconut Water", "Tomato Juice", "Hot Cocoa",
            "Almond Milk", "Oat Milk", "Chai Latte", "Fruit Punch",
        ],
        "Snacks": [
            "Potato Chips", "Popcorn", "Pretzels", "Tortilla Chips",
            "Granola Bar", "Trail Mix", "Rice Cakes", "Cheese Puffs",
            "Beef Jerky", "Crackers", "Pita Chips", "Corn Chips",
            "Fruit Leather", "Cookies", "Veggie Straws", "Peanut Brittle",
            "Caramel Corn", "Fig Bars", "Pork Rinds", "Banana Chips",
        ],
    },
    "Ingredient": {
        "Fruits": [
            "Apple", "Banana", "Grape", "Pear",
            "Pineapple", "Mango", "Nectarine", "Plum",
            "Cherry", "Apricot", "Kiwi", "Papaya",
            "Lemon", "Lime", "Orange", "Blueberry",
            "Raspberry", "Strawberry", "Watermelon", "Fig",
        ],
        "Vegetables": [
            "Carrot", "Broccoli", "Spinach", "Potato",
            "Onion", "Garlic", "Celery", "Cucumber",
            "Zucchini", "Eggplant", "Cabbage", "Cauliflower",
            "Kale", "Lettuce", "Radish", "Beetroot",
            "Asparagus", "Leek", "Pumpkin", "Sweet Potato",
        ],
        "Spices": [
            "Cinnamon", "Nutmeg", "Clove", "Cumin",
            "Paprika", "Turmeric", "Saffron", "Cardamom",
            "Black Pepper", "Ginger", "Oregano", "Basil",
            "Thyme", "Rosemary", "Sage", "Vanilla",
            "Coriander", "Fennel Seed", "Star Anise", "Chili Flakes",
        ],
        "Grains": [
            "Wheat", "Rice", "Oats", "Barley",
            "Rye", "Corn", "Quinoa", "Millet",
            "Sorghum", "Buckwheat", "Spelt", "Bulgur",
            "Couscous", "Farro", "Amaranth", "Teff",
            "Semolina", "Cornmeal", "Wild Rice", "Flour",
        ],
        "Proteins": [
            "Egg", "Chicken Breast", "Ground Beef", "Pork Loin",
            "Lamb Chop", "Turkey Breast", "Salmon Fillet", "Tuna Steak",
            "Prawns", "Tofu", "Lentils", "Chickpeas",
            "Black Beans", "Peanuts", "Almonds", "Walnuts",
            "Tempeh", "Cod Fillet", "Duck Breast", "Bacon",
        ],
    },
    # ------------------------------------------------------------------ 1
    "Zoo": {
        "Urban": [
            "Metro Zoo", "Central Park Zoo", "Capital Zoo", "Lincoln Zoo",
            "Harbor City Zoo", "Brookfield Zoo", "Riverbend Zoo", "Elmwood Zoo",
            "Northgate Zoo", "Kingston Zoo", "Bayview Zoo", "Westfield Zoo",
            "Franklin Zoo", "Highland Zoo", "Granite City Zoo", "Summit Zoo",
            "Oakridge Zoo", "Fairview Zoo", "Eastside Zoo", "Millbrook Zoo",
        ],
        "Safari": [
            "Savanna Safari Park", "Lion Country Safari", "Serengeti Park", "Wild Plains Safari",
            "Sunbelt Safari", "Big Sky Safari", "Grassland Safari", "Acacia Safari Park",
            "Thornveld Safari", "Red Dust Safari", "Open Range Safari", "Golden Plains Park",
            "Sahel Safari", "Drylands Safari", "Baobab Safari", "Horizon Safari",
            "Prairie Wild Park", "Mesa Safari", "Dune Safari Park", "Outback Safari",
        ],
        "Marine": [
            "Ocean Aquarium", "Coral Reef Aquarium", "Blue Lagoon Aquarium", "Deep Sea World",
            "Tidewater Aquarium", "Seaside Aquarium", "Kelp Forest Aquarium", "Harbor Aquarium",
            "Bay Aquarium", "Pacific Marine Park", "Atlantic Aquarium", "Reef World",
            "Tide Pool Center", "Mariner Aquarium", "Sea Life Park", "Coastal Aquarium",
            "Wave Crest Aquarium", "Gulf Aquarium", "Pearl Aquarium", "Dolphin Cove",
        ],
        "Petting": [
            "Happy Hooves Farm", "Little Barn Zoo", "Meadow Petting Zoo", "Sunny Acres Farm",
            "Cuddle Corner Zoo", "Tiny Paws Zoo", "Clover Farm Zoo", "Duckling Farm",
            "Red Barn Zoo", "Gentle Giants Farm", "Buttercup Farm", "Haystack Zoo",
            "Friendly Farm Zoo", "Kid Corral", "Bunny Hollow", "Wooly Meadow Farm",
            "Pony Paddock", "Barnyard Buddies", "Daisy Farm Zoo", "Honeybee Farm",
        ],
        "Sanctuary": [
            "Mountain Wildlife Park", "Forest Sanctuary", "Wetland Reserve", "Redwood Wildlife Park",
            "Bear Creek Sanctuary", "Eagle Ridge Reserve", "Wolf Hollow Sanctuary", "Misty Valley Reserve",
            "Alpine Wildlife Park", "Jungle Rescue Center", "Swamp Sanctuary", "Highland Wildlife Park",
            "Northwoods Reserve", "Canyon Wildlife Park", "Raptor Refuge", "Green Valley Sanctuary",
            "Tundra Wildlife Park", "Rainforest Reserve", "Stoneridge Sanctuary", "Hidden Lake Reserve",
        ],
    },
    "Enclosure": {
        "Aquatic": [
            "Penguin Pool", "Seal Lagoon", "Otter Stream", "Shark Tank",
            "Dolphin Pool", "Jellyfish Tank", "Touch Pool", "Hippo River",
            "Walrus Cove", "Beaver Pond", "Reef Tank", "Kelp Tank",
            "Flamingo Lagoon", "Manatee Basin", "Sea Lion Rocks", "Turtle Pond",
            "Stingray Bay", "Polar Plunge", "Duck Pond", "Salmon Run",
        ],
        "Aviary": [
            "Tropical Aviary", "Raptor Mews", "Parrot House", "Songbird Aviary",
            "Owl Roost", "Hummingbird Garden", "Flight Cage", "Walk-Through Aviary",
            "Eagle Perch", "Toucan Canopy", "Peacock Lawn", "Pelican Pier",
            "Macaw Loft", "Finch Atrium", "Heron Marsh", "Vulture Cliff",
            "Crane Meadow", "Ostrich Run", "Pheasant Pen", "Butterfly House",
        ],
        "Terrestrial": [
            "Savanna Paddock", "Lion Den", "Elephant Yard", "Giraffe Barn",
            "Bear Grotto", "Wolf Woods", "Tiger Ravine", "Gorilla Forest",
            "Zebra Field", "Rhino Range", "Kangaroo Walkabout", "Monkey Island",
            "Cheetah Run", "Bison Prairie", "Camel Corral", "Deer Glade",
            "Panda Garden", "Lemur Island", "Goat Hill", "Meerkat Mound",
        ],
        "Reptile": [
            "Reptile House", "Snake Pit", "Lizard Lounge", "Tortoise Yard",
            "Crocodile Swamp", "Gecko Terrarium", "Iguana Rock", "Frog Bog",
            "Chameleon Corner", "Python Pavilion", "Desert Dome", "Cobra Chamber",
            "Alligator Bayou", "Komodo Court", "Viper Vault", "Newt Nook",
            "Salamander Creek", "Rattlesnake Ridge", "Boa Hollow", "Turtle Terrace",
        ],
        "Nocturnal": [
            "Night House", "Bat Cave", "Moonlight Den", "Twilight Forest",
            "Aardvark Burrow", "Sloth Canopy", "Possum Hollow", "Lynx Lair",
            "Raccoon Ravine", "Badger Sett", "Hedgehog Hutch", "Firefly Glade",
            "Kiwi Burrow", "Loris Lodge", "Shadow Grotto", "Midnight Hall",
            "Starlight Dome", "Dusk Dome", "Fennec Den", "Glowworm Grotto",
        ],
    },
    "Animal": {
        "Mammals": [
            "Lion", "Tiger", "Elephant", "Giraffe",
            "Zebra", "Rhinoceros", "Hippopotamus", "Gorilla",
            "Chimpanzee", "Orangutan", "Cheetah", "Leopard",
            "Jaguar", "Polar Bear", "Grizzly Bear", "Kangaroo",
            "Koala", "Panda", "Wolf", "Camel",
        ],
        "Birds": [
            "Bald Eagle", "Emperor Penguin", "Flamingo", "Ostrich",
            "Parrot", "Toucan", "Peacock", "Pelican",
            "Barn Owl", "Red-Tailed Hawk", "Falcon", "Macaw",
            "Swan", "Heron", "Vulture", "Emu",
            "Cockatoo", "Hornbill", "Kingfisher", "Condor",
        ],
        "Reptiles": [
            "Crocodile", "Alligator", "Komodo Dragon", "Iguana",
            "Gecko", "Chameleon", "King Cobra", "Python",
            "Rattlesnake", "Boa Constrictor", "Tortoise", "Sea Turtle",
            "Monitor Lizard", "Gila Monster", "Anaconda", "Tuatara",
            "Skink", "Caiman", "Bearded Dragon", "Black Mamba",
        ],
        "Amphibians": [
            "Bullfrog", "Tree Frog", "Dart Frog", "Axolotl",
            "Fire Salamander", "Newt", "Common Toad", "Cane Toad",
            "Hellbender", "Mudpuppy", "Caecilian", "Spring Peeper",
            "Glass Frog", "Tiger Salamander", "Olm", "Horned Frog",
            "Leopard Frog", "Siren", "Spadefoot Toad", "Crested Newt",
        ],
        "Fish": [
            "Clownfish", "Angelfish", "Great White Shark", "Hammerhead Shark",
            "Manta Ray", "Moray Eel", "Pufferfish", "Seahorse",
            "Lionfish", "Barracuda", "Swordfish", "Koi",
            "Goldfish", "Piranha", "Catfish", "Sturgeon",
            "Tang", "Grouper", "Arowana", "Electric Eel",
        ],
    },
    "Bone": {
        "Cranial": [
            "Frontal Bone", "Parietal Bone", "Occipital Bone", "Temporal Bone",
            "Sphenoid", "Ethmoid", "Mandible", "Maxilla",
            "Zygomatic Bone", "Nasal Bone", "Lacrimal Bone", "Vomer",
            "Palatine Bone", "Hyoid", "Malleus", "Incus",
            "Stapes", "Inferior Concha", "Cheekbone", "Mastoid Process",
        ],
        "Axial": [
            "Sternum", "Rib", "Floating Rib", "True Rib",
            "False Rib", "Atlas", "Axis", "Cervical Vertebra",
            "Thoracic Vertebra", "Lumbar Vertebra", "Sacrum", "Coccyx",
            "Xiphoid Process", "Manubrium", "Spinous Process", "Transverse Process",
            "Vertebral Arch", "Costal Cartilage", "Tailbone", "Breastbone",
        ],
        "Upper Limb": [
            "Humerus", "Radius", "Ulna", "Clavicle",
            "Scapula", "Acromion", "Olecranon", "Coracoid",
            "Collarbone", "Shoulder Blade", "Humeral Head", "Radial Head",
            "Ulnar Styloid", "Radial Styloid", "Capitulum", "Trochlea",
            "Glenoid", "Deltoid Tuberosity", "Medial Epicondyle", "Lateral Epicondyle",
        ],
        "Lower Limb": [
            "Femur", "Tibia", "Fibula", "Patella",
            "Ilium", "Ischium", "Pubis", "Pelvis",
            "Hip Bone", "Kneecap", "Shinbone", "Femoral Head",
            "Femoral Neck", "Greater Trochanter", "Lesser Trochanter", "Tibial Plateau",
            "Medial Malleolus", "Lateral Malleolus", "Acetabulum", "Femoral Condyle",
        ],
        "Extremity": [
            "Scaphoid", "Lunate", "Triquetrum", "Pisiform",
            "Trapezium", "Trapezoid", "Capitate", "Hamate",
            "Metacarpal", "Phalanx", "Talus", "Calcaneus",
            "Navicular", "Cuboid", "Cuneiform", "Metatarsal",
            "Heel Bone", "Ankle Bone", "Sesamoid", "Knuckle",
        ],
    },
    # ------------------------------------------------------------------ 2
    "School": {
        "High": [
            "Central High", "Riverview High", "Lincoln High", "Westlake High",
            "Eastwood High", "Northridge High", "Southside High", "Valley High",
            "Hillcrest High", "Lakeview High", "Jefferson High", "Roosevelt High",
            "Kennedy High", "Madison High", "Oakland High", "Summit High",
            "Pioneer High", "Mountain View High", "Harbor High", "Clearwater High",
        ],
        "Middle": [
            "Maplewood Middle", "Cedar Middle", "Brookside Middle", "Parkview Middle",
            "Fairmont Middle", "Greenfield Middle", "Edison Middle", "Franklin Middle",
            "Washington Middle", "Jackson Middle", "Meadowbrook Middle", "Sunnyside Middle",
            "Bayside Middle", "Pinecrest Middle", "Ridgeway Middle", "Westview Middle",
            "Hamilton Middle", "Glenwood Middle", "Stonebridge Middle", "Crestview Middle",
        ],
        "Elementary": [
            "Sunshine Elementary", "Rainbow Elementary", "Oakwood Elementary", "Willow Elementary",
            "Bluebird Elementary", "Garfield Elementary", "Adams Elementary", "Hillside Elementary",
            "Rosemont Elementary", "Lakeside Elementary", "Greenbrier Elementary", "Birchwood Elementary",
            "Springdale Elementary", "Cherry Hill Elementary", "Meadow Elementary", "Sunrise Elementary",
            "Evergreen Elementary", "Kingsley Elementary", "Rolling Hills Elementary", "Brightwater Elementary",
        ],
        "Academy": [
            "Westbrook Academy", "Ashford Academy", "Kingswood Academy", "Saint Mary Academy",
            "Trinity Prep", "Oxford Prep", "Whitmore Academy", "Beacon Academy",
            "Chandler Prep", "Hawthorne Academy", "Sterling Academy", "Pembrook Prep",
            "Ravenwood Academy", "Lexington Prep", "Carlisle Academy", "Sheffield Prep",
            "Wellington Academy", "Marlowe Academy", "Fulton Prep", "Bishop Academy",
        ],
        "Specialty": [
            "Performing Arts School", "Tech Magnet School", "Stem Academy", "Language Immersion School",
            "Montessori School", "Music Conservatory", "Design Institute", "Maritime Academy",
            "Aviation High", "Culinary Institute", "Polytechnic Institute", "Drama School",
            "Ballet School", "Coding School", "Engineering Academy", "Nursing School",
            "Agriculture School", "Film School", "Sports Academy", "Fine Arts Institute",
        ],
    },
    "Classroom": {
        "Arts": [
            "Dance Studio", "Film Studio", "Art Room", "Music Room",
            "Pottery Studio", "Drawing Studio", "Choir Room", "Band Room",
            "Theater Stage", "Photo Lab", "Sculpture Studio", "Painting Studio",
            "Printmaking Studio", "Orchestra Room", "Recording Studio", "Drama Room",
            "Textile Studio", "Ceramics Lab", "Woodshop", "Jewelry Studio",
        ],
        "Science": [
            "Chemistry Lab", "Biology Lab", "Physics Lab", "Earth Science Room",
            "Astronomy Lab", "Greenhouse", "Anatomy Lab", "Botany Lab",
            "Geology Lab", "Ecology Lab", "Microscope Room", "Observatory",
            "Robotics Lab", "Marine Lab", "Genetics Lab", "Science Hall",
            "Prep Room", "Lab Bay", "Zoology Lab", "Weather Station",
        ],
        "Humanities": [
            "History Room", "English Room", "Reading Room", "Writing Center",
            "Debate Hall", "Language Lab", "Geography Room", "Civics Room",
            "Philosophy Room", "Latin Room", "Literature Room", "Spanish Room",
            "French Room", "Economics Room", "Study Hall", "Lecture Hall",
            "Seminar Room", "Poetry Nook", "Library Annex", "Journalism Room",
        ],
        "Athletics": [
            "Gymnasium", "Weight Room", "Natatorium", "Wrestling Room",
            "Fencing Hall", "Yoga Studio", "Martial Arts Dojo", "Climbing Wall",
            "Fitness Center", "Indoor Track", "Boxing Gym", "Aerobics Room",
            "Gymnastics Hall", "Locker Room", "Squash Court", "Badminton Hall",
            "Table Tennis Room", "Training Room", "Cardio Room", "Spin Studio",
        ],
        "Technology": [
            "Computer Lab", "Media Center", "Coding Lab", "Maker Space",
            "Electronics Lab", "Design Lab", "Engineering Lab", "Drafting Room",
            "Server Room", "Broadcast Studio", "Game Lab", "Innovation Lab",
            "Fab Lab", "Tech Hub", "Typing Room", "Animation Studio",
            "Digital Studio", "Data Lab", "Virtual Reality Lab", "Circuit Lab",
        ],
    },
    "Backpack": {
        "Everyday": [
            "School Daypack", "Messenger Backpack", "Bookbag", "Classic Daypack",
            "Rolling Backpack", "Drawstring Bag", "Mini Backpack", "Laptop Backpack",
            "Canvas Rucksack", "Satchel", "Commuter Pack", "Sling Pack",
            "Student Pack", "Zip Pack", "Flap Backpack", "Campus Pack",
            "Everyday Pack", "Kids Backpack", "Lunch Pack", "Book Satchel",
        ],
        "Hiking": [
            "Hiking Pack", "Trail Daypack", "Hydration Pack", "Trekking Pack",
            "Summit Pack", "Alpine Pack", "Frame Pack", "Expedition Pack",
            "Ultralight Pack", "Climbing Pack", "Rucksack", "Camping Pack",
            "Mountaineering Pack", "Ridge Pack", "Canyon Pack", "Backcountry Pack",
            "Ski Pack", "Hunting Pack", "Fishing Pack", "Scout Pack",
        ],
        "Travel": [
            "Travel Backpack", "Carry-On Pack", "Duffel Backpack", "Weekender Pack",
            "Convertible Backpack", "Anti-Theft Backpack", "Packable Daypack", "Wheeled Backpack",
            "Nomad Pack", "Jetsetter Pack", "Passport Pack", "Roller Pack",
            "Globetrotter Pack", "Voyager Pack", "Cabin Pack", "Overnight Pack",
            "Explorer Pack", "Wanderer Pack", "Transit Pack", "Tourist Pack",
        ],
        "Sport": [
            "Gym Backpack", "Soccer Pack", "Basketball Backpack", "Tennis Backpack",
            "Cycling Pack", "Running Vest", "Skate Backpack", "Swim Pack",
            "Baseball Backpack", "Hockey Pack", "Golf Pack", "Lacrosse Pack",
            "Volleyball Pack", "Dance Pack", "Cheer Backpack", "Team Pack",
            "Athlete Pack", "Sprint Pack", "Racquet Pack", "Yoga Pack",
        ],
        "Fashion": [
            "Leather Backpack", "Vintage Rucksack", "Designer Backpack", "Quilted Backpack",
            "Denim Backpack", "Suede Backpack", "Velvet Backpack", "Sequin Backpack",
            "Woven Backpack", "Bucket Backpack", "Clear Backpack", "Floral Backpack",
            "Metallic Backpack", "Plaid Backpack", "Faux Fur Backpack", "Studded Backpack",
            "Retro Daypack", "Chic Rucksack", "Boho Backpack", "Luxe Backpack",
        ],
    },
    "Stationery": {
        "Writing": [
            "Pencil", "Ballpoint Pen", "Fountain Pen", "Gel Pen",
            "Marker", "Highlighter", "Crayon", "Chalk",
            "Mechanical Pencil", "Colored Pencil", "Felt Pen", "Fineliner",
            "Quill", "Dry Erase Marker", "Permanent Marker", "Rollerball Pen",
            "Charcoal Stick", "Grease Pencil", "Calligraphy Pen", "Stylus",
        ],
        "Paper": [
            "Notebook", "Notepad", "Sticky Notes", "Index Cards",
            "Graph Paper", "Loose Leaf", "Composition Book", "Sketchbook",
            "Legal Pad", "Construction Paper", "Tracing Paper", "Envelope",
            "Journal", "Planner", "Post Card", "Spiral Notebook",
            "Memo Pad", "Cardstock", "Flash Cards", "Printer Paper",
        ],
        "Measuring": [
            "Ruler", "Protractor", "Compass", "Set Square",
            "Tape Measure", "Calculator", "Yardstick", "Meter Stick",
            "Triangle Ruler", "Stencil", "French Curve", "Scale Ruler",
            "Divider", "Slide Rule", "Drafting Triangle", "Abacus",
            "Geometry Set", "Angle Finder", "Caliper", "Folding Rule",
        ],
        "Organizing": [
            "Binder", "Folder", "Paper Clip", "Stapler",
            "Staples", "Hole Punch", "Rubber Band", "Pencil Case",
            "Pencil Sharpener", "Eraser", "Binder Clip", "Push Pin",
            "Thumbtack", "Tape Dispenser", "File Divider", "Clipboard",
            "Label Maker", "Desk Organizer", "Accordion File", "Bookmark",
        ],
        "Art Supplies": [
            "Glue Stick", "Scissors", "Watercolors", "Paintbrush",
            "Pastels", "Modeling Clay", "Glitter", "Oil Paints",
            "Acrylic Paint", "Palette", "Easel", "Craft Knife",
            "Masking Tape", "Washi Tape", "Stamp Pad", "Rubber Stamp",
            "Sequins", "Pipe Cleaners", "Finger Paint", "Glue Gun",
        ],
    },
    # ------------------------------------------------------------------ 3
    "Ecosystems": {
        "Forest": [
            "Tropical Rainforest", "Temperate Rainforest", "Boreal Forest", "Cloud Forest",
            "Deciduous Forest", "Bamboo Forest", "Pine Barrens", "Redwood Forest",
            "Oak Woodland", "Taiga", "Dry Forest", "Monsoon Forest",
            "Montane Forest", "Birch Forest", "Old Growth Forest", "Eucalyptus Forest",
            "Beech Forest", "Cedar Forest", "Elfin Forest", "Spruce Forest",
        ],
        "Marine": [
            "Coral Reef", "Kelp Forest", "Open Ocean", "Deep Sea Trench",
            "Hydrothermal Vent", "Seagrass Meadow", "Lagoon", "Tidal Flat",
            "Rocky Shore", "Sandy Coast", "Continental Shelf", "Abyssal Plain",
            "Cold Seep", "Pelagic Zone", "Intertidal Zone", "Barrier Reef",
            "Atoll", "Seamount", "Upwelling Zone", "Fjord",
        ],
        "Freshwater": [
            "Estuary", "Salt Marsh", "Mangrove Swamp", "Peat Bog",
            "Fen", "Freshwater Marsh", "River Delta", "Oxbow Lake",
            "Alpine Lake", "Mountain Stream", "Floodplain", "Cypress Swamp",
            "Vernal Pool", "Crater Lake", "Spring Creek", "Beaver Wetland",
            "Reed Bed", "Millpond", "Prairie Pothole", "Blackwater River",
        ],
        "Grassland": [
            "Savanna", "Prairie", "Steppe", "Pampas",
            "Meadow", "Veld", "Chaparral", "Scrubland",
            "Heathland", "Moorland", "Tallgrass Prairie", "Shortgrass Prairie",
            "Alpine Meadow", "Sagebrush Steppe", "Llanos", "Cerrado",
            "Puszta", "Shrubland", "Flooded Grassland", "Machair",
        ],
        "Extreme": [
            "Hot Desert", "Cold Desert", "Sand Dunes", "Salt Flat",
            "Badlands", "Arctic Tundra", "Alpine Tundra", "Polar Ice Cap",
            "Glacier", "Permafrost Plain", "Volcanic Island", "Lava Field",
            "Cave System", "High Plateau", "Rocky Canyon", "Oasis",
            "Sea Ice", "Scree Slope", "Geyser Basin", "Ice Shelf",
        ],
    },
    "Creatures": {
        "Insects": [
            "Honeybee", "Bumblebee", "Monarch Butterfly", "Dragonfly",
            "Ladybug", "Grasshopper", "Cricket", "Praying Mantis",
            "Firefly", "Ant", "Termite", "Beetle",
            "Moth", "Mosquito", "Housefly", "Cicada",
            "Aphid", "Stick Insect", "Dung Beetle", "Wasp",
        ],
        "Arachnids": [
            "Tarantula", "Scorpion", "Black Widow", "Wolf Spider",
            "Jumping Spider", "Orb Weaver", "Tick", "Mite",
            "Harvestman", "Trapdoor Spider", "Huntsman Spider", "Garden Spider",
            "Crab Spider", "Whip Scorpion", "Sun Spider", "Funnel Weaver",
            "Recluse Spider", "Fishing Spider", "Velvet Mite", "Pseudoscorpion",
        ],
        "Mollusks": [
            "Octopus", "Squid", "Cuttlefish", "Nautilus",
            "Garden Snail", "Slug", "Clam", "Oyster",
            "Mussel", "Scallop", "Conch", "Abalone",
            "Sea Slug", "Limpet", "Cowrie", "Whelk",
            "Giant Clam", "Periwinkle", "Chiton", "Sea Hare",
        ],
        "Crustaceans": [
            "Crab", "Lobster", "Krill", "Barnacle",
            "Hermit Crab", "Crayfish", "Copepod", "Woodlouse",
            "Mantis Shrimp", "Fiddler Crab", "King Crab", "Spiny Lobster",
            "Water Flea", "Amphipod", "Isopod", "Brine Shrimp",
            "Coconut Crab", "Blue Crab", "Ghost Crab", "Sand Hopper",
        ],
        "Invertebrates": [
            "Earthworm", "Leech", "Flatworm", "Tapeworm",
            "Roundworm", "Lugworm", "Bristle Worm", "Ribbon Worm",
            "Sea Cucumber", "Starfish", "Sea Urchin", "Jellyfish",
            "Sea Anemone", "Sponge", "Hydra", "Coral Polyp",
            "Sand Dollar", "Brittle Star", "Comb Jelly", "Velvet Worm",
        ],
    },
    "Organs": {
        "Digestive": [
            "Stomach", "Liver", "Pancreas", "Gallbladder",
            "Small Intestine", "Large Intestine", "Esophagus", "Colon",
            "Appendix", "Duodenum", "Rectum", "Salivary Gland",
            "Gizzard", "Crop", "Cecum", "Jejunum",
            "Ileum", "Rumen", "Pharynx", "Tongue",
        ],
        "Circulatory": [
            "Heart", "Aorta", "Spleen", "Thymus",
            "Lymph Node", "Vena Cava", "Left Ventricle", "Right Ventricle",
            "Left Atrium", "Right Atrium", "Carotid Artery", "Pulmonary Artery",
            "Jugular Vein", "Coronary Artery", "Tonsil", "Bone Marrow",
            "Capillary Bed", "Heart Valve", "Femoral Artery", "Portal Vein",
        ],
        "Respiratory": [
            "Lung", "Trachea", "Bronchus", "Larynx",
            "Diaphragm", "Gill", "Nasal Cavity", "Alveolar Sac",
            "Swim Bladder", "Air Sac", "Book Lung", "Spiracle",
            "Windpipe", "Sinus", "Epiglottis", "Pleura",
            "Bronchiole", "Vocal Cords", "Syrinx", "Nostril",
        ],
        "Nervous": [
            "Brain", "Spinal Cord", "Cerebrum", "Cerebellum",
            "Brainstem", "Hypothalamus", "Pituitary Gland", "Pineal Gland",
            "Thalamus", "Hippocampus", "Amygdala", "Medulla",
            "Optic Nerve", "Vagus Nerve", "Sciatic Nerve", "Nerve Ganglion",
            "Corpus Callosum", "Cortex", "Olfactory Bulb", "Pons",
        ],
        "Regulatory": [
            "Kidney", "Bladder", "Ureter", "Urethra",
            "Adrenal Gland", "Thyroid", "Parathyroid", "Skin",
            "Eye", "Ear", "Retina", "Cornea",
            "Cochlea", "Ovary", "Testis", "Uterus",
            "Prostate", "Placenta", "Mammary Gland", "Sweat Gland",
        ],
    },
    "Cells": {
        "Blood": [
            "Red Blood Cell", "White Blood Cell", "Platelet", "Erythrocyte",
            "Leukocyte", "Reticulocyte", "Megakaryocyte", "Hemocyte",
            "Thrombocyte", "Proerythroblast", "Myeloblast", "Blood Stem Cell",
            "Normoblast", "Promyelocyte", "Monoblast", "Lymphoblast",
            "Erythroblast", "Metamyelocyte", "Band Cell", "Myelocyte",
        ],
        "Nerve": [
            "Neuron", "Motor Neuron", "Sensory Neuron", "Interneuron",
            "Pyramidal Cell", "Purkinje Cell", "Astrocyte", "Oligodendrocyte",
            "Microglia", "Schwann Cell", "Ependymal Cell", "Rod Cell",
            "Cone Cell", "Granule Cell", "Basket Cell", "Stellate Cell",
            "Hair Cell", "Ganglion Cell", "Bipolar Cell", "Satellite Glia",
        ],
        "Connective": [
            "Muscle Fiber", "Cardiomyocyte", "Smooth Muscle Cell", "Myoblast",
            "Myocyte", "Satellite Cell", "Fibroblast", "Osteoblast",
            "Osteoclast", "Osteocyte", "Chondrocyte", "Adipocyte",
            "Tenocyte", "Pericyte", "Myofibroblast", "Chondroblast",
            "Fat Cell", "Bone Cell", "Brown Fat Cell", "Cementocyte",
        ],
        "Epithelial": [
            "Epithelial Cell", "Keratinocyte", "Melanocyte", "Goblet Cell",
            "Enterocyte", "Hepatocyte", "Podocyte", "Pneumocyte",
            "Parietal Cell", "Chief Cell", "Beta Cell", "Alpha Cell",
            "Squamous Cell", "Columnar Cell", "Cuboidal Cell", "Ciliated Cell",
            "Paneth Cell", "Endothelial Cell", "Merkel Cell", "Sertoli Cell",
        ],
        "Immune": [
            "T Cell", "B Cell", "Macrophage", "Neutrophil",
            "Eosinophil", "Basophil", "Mast Cell", "Dendritic Cell",
            "Natural Killer Cell", "Monocyte", "Plasma Cell", "Helper T Cell",
            "Killer T Cell", "Memory B Cell", "Lymphocyte", "Langerhans Cell",
            "Kupffer Cell", "Regulatory T Cell", "Granulocyte", "Histiocyte",
        ],
    },
}

CATEGORY_POSITION: dict[str, tuple[int, int]] = {
    cat: (ci, li) for ci, chain in enumerate(CATEGORIZATIONS) for li, cat in enumerate(chain)
}

ITEM_CATEGORY: dict[str, tuple[int, int]] = {
    item: CATEGORY_POSITION[cat]
    for cat, subs in NAMES.items()
    for items in subs.values()
    for item in items
}


if __name__ == "__main__":
    import re

    FORBIDDEN_WORDS = {
        "as", "and", "of", "the", "more", "than", "times", "sum", "so",
        "define", "answer", "how", "equals", "each",
    }
    # also reject these inside longer words (e.g. "Beach"), to be safe
    FORBIDDEN_SUBSTRINGS = ["'", "define", "answer", "how", "equals", "each"]
    WORD_RE = re.compile(r"^[A-Z][A-Za-z]*(-[A-Z][A-Za-z]*)*$")

    all_cats = [c for chain in CATEGORIZATIONS for c in chain]
    assert len(all_cats) == 16 and len(set(all_cats)) == 16
    assert list(NAMES) == all_cats, "NAMES keys must follow CATEGORIZATIONS order"
    cat_lower = {c.lower() for c in all_cats}

    seen: dict[str, str] = {}
    total = 0
    for cat, subs in NAMES.items():
        assert len(subs) == 5, (cat, len(subs))
        for sub, items in subs.items():
            assert len(items) == 20, (cat, sub, len(items))
            for name in items:
                total += 1
                assert re.fullmatch(r"[A-Za-z -]+", name), name
                assert name == name.strip() and "  " not in name, name
                words = name.split(" ")
                assert 1 <= len(words) <= 3, name
                for w in words:
                    assert WORD_RE.match(w), (name, w)
                    assert w.lower() not in FORBIDDEN_WORDS, (name, w)
                    for part in w.split("-"):
                        assert part.lower() not in FORBIDDEN_WORDS, (name, part)
                for s in FORBIDDEN_SUBSTRINGS:
                    assert s not in name.lower(), (name, s)
                assert name.lower() not in cat_lower, name
                key = name.lower()
                assert key not in seen, f"duplicate: {name!r} ({cat}) vs {seen[key]}"
                seen[key] = cat
    assert total == 1600, total
    assert len(ITEM_CATEGORY) == 1600
    assert len(CATEGORY_POSITION) == 16
    for name, (ci, li) in ITEM_CATEGORY.items():
        assert name in NAMES[CATEGORIZATIONS[ci][li]][next(
            s for s, v in NAMES[CATEGORIZATIONS[ci][li]].items() if name in v)]
    print(f"OK: {len(NAMES)} categories, {total} unique item names")
